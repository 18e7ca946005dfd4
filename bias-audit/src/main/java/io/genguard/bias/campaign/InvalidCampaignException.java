package io.genguard.bias.campaign;

/**
 * A campaign that cannot run as written. The message names the file, the place in it (a path such
 * as {@code groups[2].name}) and what to change; nothing has been submitted when this is thrown.
 */
public final class InvalidCampaignException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String origin;
  private final String path;

  public InvalidCampaignException(String origin, String path, String problem) {
    super(origin + (path == null || path.isEmpty() ? "" : ": " + path) + ": " + problem);
    this.origin = origin;
    this.path = path;
  }

  /** Where the campaign came from (its file name). */
  public String origin() {
    return origin;
  }

  /** The place in the campaign, e.g. {@code templates.inline[1]}. */
  public String path() {
    return path;
  }
}
