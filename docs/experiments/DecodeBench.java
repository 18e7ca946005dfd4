// The decoding comparison quoted in the README (2026-12-04): EventCodec (bounded decoder) against
// Avro's BinaryMessageDecoder on one ModerationVerdict. Not part of the build; from the repository root:
//   mvn -B -q -pl schemas install -DskipTests
//   (cd schemas && mvn -B -q dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
//   CP="schemas/target/classes:$(cat schemas/target/classpath.txt)"
//   javac -d /tmp/decode-bench -cp "$CP" docs/experiments/DecodeBench.java
//   java -cp "/tmp/decode-bench:$CP" DecodeBench
import io.genguard.events.v1.*;
import io.genguard.schemas.*;
import java.time.Instant;
import java.util.*;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificData;

public class DecodeBench {
  public static void main(String[] a) throws Exception {
    Map<String, Double> scores = new HashMap<>();
    for (String c : List.of("hate","harassment","sexual","sexual_minors","violence","self_harm","illicit")) scores.put(c, 0.1);
    ModerationVerdict v = ModerationVerdict.newBuilder()
        .setEventId(UUID.randomUUID().toString()).setVerdictId(UUID.randomUUID().toString())
        .setOutputId(UUID.randomUUID().toString()).setRequestId(UUID.randomUUID().toString())
        .setTenantId("default").setOutputSha256(ContentHash.sha256Hex("x"))
        .setDecision(Decision.RELEASE)
        .setReasons(List.of(Reason.newBuilder().setCode("policy.clear").setDecision(Decision.RELEASE).setMessage("No category reached its review threshold").build()))
        .setUnsafeScore(0.1).setCategoryScores(scores).setGroups(List.of("gender:women"))
        .setPolicyId("genguard-default").setPolicyVersion("2026-12-03.6")
        .setScorerVersions(Map.of("minilm-ensemble","1.0.0+sha256:ea81e03bf59f","sentence-max","1.1.0","provenance","kgw-hmac-sha256-word-v1","watermark-detector","2"))
        .setAttributes(Map.of("source","demo")).setDecidedAt(Instant.now()).build();
    EventCodec<ModerationVerdict> codec = Topics.MODERATION_VERDICTS.codec();
    byte[] bytes = codec.encode(v);
    BinaryMessageDecoder<ModerationVerdict> avro = new BinaryMessageDecoder<>(SpecificData.getForClass(ModerationVerdict.class), v.getSchema());
    System.out.println("event bytes " + bytes.length);
    for (int round = 0; round < 5; round++) {
      long t0 = System.nanoTime(); int h = 0;
      for (int i = 0; i < 200_000; i++) h += codec.decode(bytes).getUnsafeScore() > 0 ? 1 : 0;
      long t1 = System.nanoTime();
      for (int i = 0; i < 200_000; i++) h += avro.decode(bytes).getUnsafeScore() > 0 ? 1 : 0;
      long t2 = System.nanoTime();
      System.out.printf("round %d: EventCodec %.2f us, BinaryMessageDecoder %.2f us (%d)%n", round, (t1-t0)/200_000e3, (t2-t1)/200_000e3, h);
    }
  }
}
