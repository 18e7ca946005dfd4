package io.genguard.generator;

import static org.assertj.core.api.Assertions.assertThat;

import io.genguard.schemas.BatchOffsetLookup;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.api.Test;

/** The level that {@link BatchOffsetLookup} keeps, against the broker's own (test classpath). */
class BatchOffsetLookupLevelTest {
  @Test
  void shouldKeepTheMetadataVersionLevelOfKafka41() {
    assertThat(BatchOffsetLookup.KAFKA_4_1_LEVEL)
        .isEqualTo(MetadataVersion.IBP_4_1_IV0.featureLevel());
    assertThat(BatchOffsetLookup.METADATA_VERSION).isEqualTo(MetadataVersion.FEATURE_NAME);
  }
}
