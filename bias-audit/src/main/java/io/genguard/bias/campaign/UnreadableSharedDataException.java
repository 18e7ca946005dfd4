package io.genguard.bias.campaign;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A shared data file a campaign needs exists but cannot be read (permission denied, an I/O error, a
 * folder where the file should be) or is not JSON (damaged): the machine's or the data's fault, not
 * the campaign's, so not an {@link InvalidCampaignException} (a usage error, exit 2) but a failure
 * of the run (exit 1) that may pass once the file is fixed. Nothing has been submitted when this is
 * thrown.
 */
public final class UnreadableSharedDataException extends UncheckedIOException {
  private static final long serialVersionUID = 1L;

  public UnreadableSharedDataException(String message, IOException cause) {
    super(message, cause);
  }
}
