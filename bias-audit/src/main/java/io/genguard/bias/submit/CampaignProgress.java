package io.genguard.bias.submit;

import io.genguard.bias.persistence.SampleOutcome;
import io.genguard.bias.persistence.SampleOutcome.State;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Where a campaign stands, and exactly which samples are missing (never submitted, pending or
 * failed), with their groups and request ids.
 */
public record CampaignProgress(
    String campaignId, int planned, Map<State, Integer> counts, List<MissingSample> missing) {

  public CampaignProgress {
    counts = Map.copyOf(counts);
    missing = List.copyOf(missing);
  }

  /** A sample without a verdict. */
  public record MissingSample(
      int sampleIndex, String group, State state, List<String> requestIds, String reason) {
    public MissingSample {
      requestIds = List.copyOf(requestIds);
    }
  }

  public static CampaignProgress of(String campaignId, List<SampleOutcome> outcomes) {
    Map<State, Integer> counts = new EnumMap<>(State.class);
    for (State state : State.values()) {
      counts.put(state, 0);
    }
    List<MissingSample> missing =
        outcomes.stream()
            .peek(o -> counts.merge(o.state(), 1, Integer::sum))
            .filter(o -> o.state() != State.JUDGED)
            .map(
                o ->
                    new MissingSample(
                        o.sample().sampleIndex(),
                        o.sample().group(),
                        o.state(),
                        o.requestIds(),
                        switch (o.state()) {
                          case NOT_SUBMITTED -> "never submitted (the campaign was interrupted)";
                          case PENDING -> "submitted; no verdict in the audit store yet";
                          case FAILED ->
                              "generation failed: "
                                  + o.failure().map(f -> f.code() + ": " + f.reason()).orElse("");
                          case UNSCORED ->
                              "judged without scores ("
                                  + o.judged().map(j -> j.scorerFailure()).orElse("")
                                  + "): the policy held it; left out of the rates";
                          case JUDGED -> "";
                        }))
            .toList();
    return new CampaignProgress(campaignId, outcomes.size(), counts, missing);
  }

  public int judged() {
    return counts.getOrDefault(State.JUDGED, 0);
  }

  public boolean complete() {
    return judged() == planned;
  }

  /** Nothing more will arrive: every sample is judged or failed. */
  public boolean settled() {
    return counts.getOrDefault(State.PENDING, 0) == 0
        && counts.getOrDefault(State.NOT_SUBMITTED, 0) == 0;
  }
}
