package io.genguard.audit.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.Base64;

/**
 * Turns result rows into JSON objects: column names in camelCase, jsonb as JSON, arrays as JSON
 * arrays, timestamps as ISO-8601 UTC, bytes as base64.
 */
public final class JsonRows {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private JsonRows() {}

  /** Every remaining row of {@code rs}. */
  public static ArrayNode all(ResultSet rs) throws SQLException {
    ArrayNode rows = NODES.arrayNode();
    while (rs.next()) {
      rows.add(row(rs));
    }
    return rows;
  }

  /** The current row of {@code rs}. */
  public static ObjectNode row(ResultSet rs) throws SQLException {
    ResultSetMetaData meta = rs.getMetaData();
    ObjectNode row = NODES.objectNode();
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      row.set(
          camel(meta.getColumnLabel(i)),
          value(rs, i, meta.getColumnType(i), meta.getColumnTypeName(i)));
    }
    return row;
  }

  static JsonNode value(ResultSet rs, int column, int type, String typeName) throws SQLException {
    Object raw = rs.getObject(column);
    if (raw == null) {
      return NODES.nullNode();
    }
    if ("jsonb".equals(typeName) || "json".equals(typeName)) {
      try {
        return JSON.readTree(rs.getString(column));
      } catch (JsonProcessingException e) {
        throw new SQLException("Stored JSON in column " + column + " does not parse", e);
      }
    }
    if (type == Types.ARRAY) {
      ArrayNode array = NODES.arrayNode();
      for (Object element : (Object[]) rs.getArray(column).getArray()) {
        array.add(String.valueOf(element));
      }
      return array;
    }
    if (type == Types.TIMESTAMP || type == Types.TIMESTAMP_WITH_TIMEZONE) {
      return NODES.textNode(rs.getObject(column, OffsetDateTime.class).toInstant().toString());
    }
    if (type == Types.BINARY || type == Types.VARBINARY) {
      return NODES.textNode(Base64.getEncoder().encodeToString(rs.getBytes(column)));
    }
    return JSON.valueToTree(raw);
  }

  /** snake_case to camelCase. */
  public static String camel(String column) {
    StringBuilder out = new StringBuilder();
    boolean upper = false;
    for (char c : column.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }
}
