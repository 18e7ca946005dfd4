package io.genguard.audit.security;

import io.javalin.security.RouteRole;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What an API token may do. Each endpoint names the roles it admits; ADMIN is admitted everywhere.
 */
public enum Role implements RouteRole {
  /** Submits generation requests and reads their outcome, for one tenant. */
  SUBMITTER,
  /** Works the review queue (claim, approve, reject) and searches outputs, for one tenant. */
  REVIEWER,
  /** Reads everything (search, export, bias reports, audit verification), for one tenant or all. */
  COMPLIANCE,
  /** Everything, including tokens and retention. */
  ADMIN;

  /** Parses a role name case-insensitively, with an error that lists the valid names. */
  public static Role parse(String name) {
    if (name != null) {
      for (Role role : values()) {
        if (role.name().equalsIgnoreCase(name.trim())) {
          return role;
        }
      }
    }
    throw new IllegalArgumentException(
        "Unknown role '"
            + name
            + "'; use one of "
            + Arrays.stream(values())
                .map(r -> r.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ")));
  }

  /** Only compliance and admin tokens may see every tenant. */
  public boolean mayBeGlobal() {
    return this == COMPLIANCE || this == ADMIN;
  }
}
