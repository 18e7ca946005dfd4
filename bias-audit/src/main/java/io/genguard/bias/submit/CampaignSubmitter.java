package io.genguard.bias.submit;

/** Puts a campaign's requests into the normal pipeline. */
public interface CampaignSubmitter {
  /**
   * Checks that the pipeline is reachable and accepts this client, before anything is planned.
   *
   * @throws SubmissionException saying what is wrong and what to do
   */
  void checkReachable();

  /**
   * Submits one request and returns the request id the pipeline assigned to it, once the pipeline
   * has durably accepted it.
   *
   * @throws SubmissionException when it was not accepted
   */
  String submit(SubmissionRequest request);
}
