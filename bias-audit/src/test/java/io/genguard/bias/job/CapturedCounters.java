package io.genguard.bias.job;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter for tests on a MiniCluster in this JVM: keeps every counter by job name
 * and metric name, so a test reads the job's own metrics (registered through the service file).
 */
public final class CapturedCounters implements MetricReporter, MetricReporterFactory {
  private static final String NAME = "captured";
  private static final Map<String, List<Counter>> COUNTERS = new ConcurrentHashMap<>();

  /** Reports the MiniCluster built from {@code conf} here. */
  static void reportTo(Configuration conf) {
    conf.set(
        ConfigOptions.key("metrics.reporter." + NAME + ".factory.class")
            .stringType()
            .noDefaultValue(),
        CapturedCounters.class.getName());
  }

  /** The sum over the job's subtasks of the counter {@code metric}; 0 before it is registered. */
  static long sum(String jobName, String metric) {
    return COUNTERS.getOrDefault(jobName + "/" + metric, List.of()).stream()
        .mapToLong(Counter::getCount)
        .sum();
  }

  @Override
  public MetricReporter createMetricReporter(Properties properties) {
    return new CapturedCounters();
  }

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
    String job = group.getAllVariables().get("<job_name>");
    if (metric instanceof Counter counter && job != null) {
      COUNTERS
          .computeIfAbsent(job + "/" + metricName, key -> new CopyOnWriteArrayList<>())
          .add(counter);
    }
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
    // kept, so that a test can still read a cancelled job's counts
  }
}
