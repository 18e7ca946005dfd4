package io.genguard.moderation.policy;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document as a tree whose every node remembers its line and column, so that a policy that
 * parses but means something invalid (a threshold of 1.5, an unknown key, RELEASE on scorer error)
 * is rejected with the exact line. Jackson's own tree forgets locations, hence this small one.
 */
final class LocatedYaml {
  private static final YAMLFactory YAML = YAMLFactory.builder().build();

  private LocatedYaml() {}

  /**
   * A node: a mapping, a sequence, a scalar (as text) or null, with where it starts; a mapping also
   * keeps where each of its keys is ({line, column}).
   */
  record Node(Object value, int line, int column, Map<String, int[]> keyPositions) {
    Node(Object value, int line, int column) {
      this(value, line, column, Map.of());
    }

    int[] keyPosition(String key) {
      int[] at = keyPositions.get(key);
      return at != null ? at : new int[] {line, column};
    }

    boolean isMap() {
      return value instanceof Map;
    }

    @SuppressWarnings("unchecked")
    Map<String, Node> map() {
      return (Map<String, Node>) value;
    }

    @SuppressWarnings("unchecked")
    List<Node> list() {
      return (List<Node>) value;
    }

    boolean isScalar() {
      return value instanceof String;
    }

    String text() {
      return (String) value;
    }
  }

  /** Parses one YAML document; syntax errors come back as {@link InvalidPolicyException}. */
  static Node parse(String yaml, String origin) {
    try (JsonParser parser = YAML.createParser(yaml)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new InvalidPolicyException(origin, 1, 1, "the file is empty");
      }
      Node root = read(parser, origin);
      if (parser.nextToken() != null) {
        JsonLocation at = parser.currentTokenLocation();
        throw new InvalidPolicyException(
            origin, at.getLineNr(), at.getColumnNr(), "more than one YAML document");
      }
      return root;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new InvalidPolicyException(
          origin,
          at == null ? 0 : at.getLineNr(),
          at == null ? 0 : at.getColumnNr(),
          "not valid YAML: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InvalidPolicyException(origin, 0, 0, "cannot read: " + e.getMessage());
    }
  }

  private static Node read(JsonParser parser, String origin) throws IOException {
    JsonLocation at = parser.currentTokenLocation();
    int line = at.getLineNr();
    int column = at.getColumnNr();
    JsonToken token = parser.currentToken();
    switch (token) {
      case START_OBJECT -> {
        Map<String, Node> map = new LinkedHashMap<>();
        Map<String, int[]> keys = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String key = parser.currentName();
          JsonLocation keyAt = parser.currentTokenLocation();
          parser.nextToken();
          Node value = read(parser, origin);
          if (map.containsKey(key)) {
            throw new InvalidPolicyException(
                origin,
                keyAt.getLineNr(),
                keyAt.getColumnNr(),
                "duplicate key '" + key + "' (first at line " + map.get(key).line() + ")");
          }
          map.put(key, value);
          keys.put(key, new int[] {keyAt.getLineNr(), keyAt.getColumnNr()});
        }
        return new Node(
            Collections.unmodifiableMap(map), line, column, Collections.unmodifiableMap(keys));
      }
      case START_ARRAY -> {
        List<Node> list = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          list.add(read(parser, origin));
        }
        return new Node(Collections.unmodifiableList(list), line, column);
      }
      case VALUE_NULL -> {
        return new Node(null, line, column);
      }
      default -> {
        return new Node(parser.getText(), line, column);
      }
    }
  }
}
