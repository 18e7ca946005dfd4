package io.genguard.provenance.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Real text without invisible characters, blanks that display as a space or look-alike letters
 * keeps the token ids it had before the tokenizer dropped the first, read the second as spaces and
 * folded the third (watermark detector version 2), so the watermark of every output generated
 * before still detects. The digests were computed with the tokenizer of detector version 2 (commit
 * 74450d5) over the same texts.
 */
class WordTokenizerPinnedIdsTest {
  /**
   * Environment variable naming the shared data folder; else ../shared/data beside the checkout.
   */
  private static final String DATA_ENV = "GENGUARD_DATA_DIR";

  private static final String JAILBREAKBENCH = "safety/jailbreakbench-artifacts/attack-artifacts";

  @Test
  void shouldGiveTheEuroparlDocumentsTheTokenIdsOfDetectorVersionTwo() {
    EuroparlCorpus corpus = EuroparlCorpus.load();
    List<String> documents = new ArrayList<>(corpus.trainingDocuments());
    documents.addAll(corpus.heldOutDocuments());

    assertThat(documents).hasSize(1_270);
    assertThat(digestOfTokenIds(documents))
        .isEqualTo("418e025a302fd1f32e4b450ac6409d575d5eba68c170d3750c38491fa4237fd0");
  }

  /**
   * Needs the shared data folder (JailbreakBench's model responses); fails, never skips, without
   * it. Four of the 1,637 responses hold emoji with a variation selector or a zero-width joiner,
   * which the tokenizer now drops, and one a picture drawn in braille cells whose 200 blank cells
   * (U+2800) it reads as spaces since the forty-first session: they are left out of the digest
   * (computed with the tokenizer of commit 74450d5 over the other 1,632).
   */
  @Test
  void shouldGiveModelResponsesInTheSharedDataTheTokenIdsOfDetectorVersionTwo() throws IOException {
    List<String> responses = jailbreakBenchResponses();
    List<String> plain =
        responses.stream()
            .filter(r -> r.codePoints().noneMatch(DisguisingCharacters::isDefaultIgnorable))
            .filter(r -> r.codePoints().noneMatch(DisguisingCharacters::isBlank))
            .toList();

    assertThat(responses).hasSize(1_637);
    assertThat(plain).hasSize(1_632);
    assertThat(digestOfTokenIds(plain))
        .isEqualTo("b8fb9083c8d8451bc3715772aada63f448867cf2437bf5577cae0499f3edc034");
  }

  private static List<String> jailbreakBenchResponses() throws IOException {
    Path folder = sharedData().resolve(JAILBREAKBENCH);
    assertThat(folder)
        .as("the shared data folder must hold %s (set %s)", JAILBREAKBENCH, DATA_ENV)
        .isDirectory();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(folder)) {
      files = walk.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    ObjectMapper json = new ObjectMapper();
    List<String> responses = new ArrayList<>();
    for (Path file : files) {
      for (JsonNode jailbreak : json.readTree(file.toFile()).get("jailbreaks")) {
        JsonNode response = jailbreak.get("response");
        if (response != null && response.isTextual() && !response.asText().isEmpty()) {
          responses.add(response.asText());
        }
      }
    }
    return responses;
  }

  private static Path sharedData() {
    String configured = System.getenv(DATA_ENV);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    // Tests run in the module folder: the checkout is its parent, and shared/ lies beside it.
    Path module = Path.of("").toAbsolutePath();
    return module.getParent().resolveSibling("shared").resolve("data");
  }

  /** SHA-256 over every text's token ids (4 bytes each, big-endian), each text ended by 0. */
  private static String digestOfTokenIds(List<String> texts) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ByteBuffer id = ByteBuffer.allocate(4);
    for (String text : texts) {
      for (int tokenId : WordTokenizer.tokenIds(text)) {
        sha256.update(id.clear().putInt(tokenId).array());
      }
      sha256.update(new byte[4]);
    }
    return HexFormat.of().formatHex(sha256.digest());
  }
}
