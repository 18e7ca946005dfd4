package io.genguard.bias.report;

import java.util.Locale;

/** The export formats of a report. */
public enum ReportFormat {
  JSON("application/json", "json"),
  CSV("text/csv", "csv"),
  HTML("text/html", "html");

  private final String mediaType;
  private final String extension;

  ReportFormat(String mediaType, String extension) {
    this.mediaType = mediaType;
    this.extension = extension;
  }

  public String mediaType() {
    return mediaType;
  }

  public String extension() {
    return extension;
  }

  public static ReportFormat parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Unknown report format '" + name + "'; use html, json or csv", e);
    }
  }
}
