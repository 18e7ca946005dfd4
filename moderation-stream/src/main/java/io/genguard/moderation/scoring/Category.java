package io.genguard.moderation.scoring;

import java.util.Locale;

/** Unsafe-content categories GenGuard scores; names on the wire are the lower-case ids. */
public enum Category {
  HATE("hate"),
  HARASSMENT("harassment"),
  SEXUAL("sexual"),
  SEXUAL_MINORS("sexual_minors"),
  VIOLENCE("violence"),
  SELF_HARM("self_harm"),
  ILLICIT("illicit");

  private final String id;

  Category(String id) {
    this.id = id;
  }

  /** The id used in verdicts, policy files and reports. */
  public String id() {
    return id;
  }

  /** Parses an id such as {@code self_harm} or {@code SELF_HARM}. */
  public static Category fromId(String id) {
    String normalized = id.trim().toLowerCase(Locale.ROOT);
    for (Category category : values()) {
      if (category.id.equals(normalized)) {
        return category;
      }
    }
    throw new IllegalArgumentException(
        "Unknown category '"
            + id
            + "'; expected one of hate, harassment, sexual, sexual_minors,"
            + " violence, self_harm, illicit");
  }
}
