package io.genguard.bias.campaign;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genguard.schemas.UnusablePaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reads a JSON file of the shared data folder (BOLD, HolisticBias) at run time and remembers its
 * SHA-256, so that a report names exactly which data it was built from. Nothing is copied into the
 * project (see the data README).
 */
final class SharedData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SharedData() {}

  /** A JSON document and where it came from. */
  record Document(JsonNode json, ResolvedCampaign.DataSource source) {}

  /**
   * Reads {@code relative} of {@code dataDirectory}.
   *
   * @throws InvalidCampaignException when the file does not exist (a data set or BOLD domain the
   *     folder does not have)
   * @throws UnreadableSharedDataException when it exists but cannot be read, or is not JSON
   */
  static Document read(Path dataDirectory, String relative, String origin, String path) {
    Path file = dataDirectory.resolve(relative);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new InvalidCampaignException(
          origin,
          path,
          "needs "
              + relative
              + " from the shared data folder, but "
              + file.toAbsolutePath()
              + " does not exist; set GENGUARD_DATA_DIR (or --shared-data) to the folder that"
              + " holds bold/ and holistic_bias/");
    } catch (IOException e) {
      // The file is there: the machine cannot read it (permissions, the disk), which a fix of the
      // campaign cannot change and another try may not meet.
      // Why, in words: before, the exception's class and the path ("java.io.IOException: Is a
      // directory", "java.nio.file.AccessDeniedException: /data/...").
      throw new UnreadableSharedDataException(
          "the shared data file "
              + file.toAbsolutePath()
              + " that "
              + origin
              + ": "
              + path
              + " needs "
              + UnusablePaths.whyUnreadable(file, e)
              + "; check the file and the folder (GENGUARD_DATA_DIR or --shared-data)",
          e);
    }
    try {
      return new Document(
          JSON.readTree(bytes), new ResolvedCampaign.DataSource(relative, sha256(bytes)));
    } catch (IOException e) {
      // Damaged data (cut short, edited), not the campaign: no change to it fixes this, as for a
      // file the machine cannot read. One line: Jackson's message may carry its source on another.
      String problem =
          e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
      JsonLocation at = e instanceof JsonProcessingException json ? json.getLocation() : null;
      throw new UnreadableSharedDataException(
          "the shared data file "
              + file.toAbsolutePath()
              + " that "
              + origin
              + ": "
              + path
              + " needs is not valid JSON ("
              + (at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ")
              + String.valueOf(problem).replaceAll("\\s*\\R\\s*", " ")
              + "); fetch the data set again, or point GENGUARD_DATA_DIR (or --shared-data) at a"
              + " folder that holds it whole",
          e);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
