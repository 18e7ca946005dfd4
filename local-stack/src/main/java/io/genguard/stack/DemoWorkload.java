package io.genguard.stack;

import io.genguard.events.v1.GenerationRequest;
import io.genguard.events.v1.SamplingParameters;
import io.genguard.schemas.EventIds;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The demo's built-in prompts (resource demo/prompts.tsv), turned into generation requests. */
public final class DemoWorkload {
  /** One line of the prompt file. */
  public record DemoPrompt(String backend, String prompt) {}

  private final List<DemoPrompt> prompts;

  private DemoWorkload(List<DemoPrompt> prompts) {
    this.prompts = prompts;
  }

  public static DemoWorkload builtIn() {
    try (InputStream in = DemoWorkload.class.getResourceAsStream("/demo/prompts.tsv")) {
      if (in == null) {
        throw new IllegalStateException("demo/prompts.tsv is missing from the classpath");
      }
      List<DemoPrompt> prompts = new ArrayList<>();
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] parts = line.split("\t", 2);
        if (parts.length != 2) {
          throw new IllegalStateException(
              "demo/prompts.tsv: expected backend<TAB>prompt, got: " + line);
        }
        prompts.add(new DemoPrompt(parts[0].trim(), parts[1].trim()));
      }
      return new DemoWorkload(List.copyOf(prompts));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public List<DemoPrompt> prompts() {
    return prompts;
  }

  /** Request number {@code i} of the workload: prompts in turn, each with its own seed. */
  public GenerationRequest request(int i, String tenant) {
    DemoPrompt prompt = prompts.get(i % prompts.size());
    return GenerationRequest.newBuilder()
        .setEventId(EventIds.random())
        .setRequestId(EventIds.random())
        .setTenantId(tenant)
        .setPrompt(prompt.prompt())
        .setBackend(prompt.backend())
        .setModel(null)
        .setParameters(
            SamplingParameters.newBuilder()
                .setMaxTokens(40)
                .setTemperature(0.9)
                .setTopK(40)
                .setTopP(0.95)
                .setSeed((long) i)
                .build())
        .setAttributes(Map.of("source", "demo"))
        .setSubmittedAt(Instant.now())
        .build();
  }
}
