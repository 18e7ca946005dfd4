package io.genguard.moderation.scoring;

import java.util.EnumMap;
import java.util.Map;

/**
 * Calibrated probabilities that a text is unsafe, overall and per category, all in 0..1.
 *
 * @param unsafe probability that the text is unsafe in any category
 * @param categories probability per category (every category present)
 */
public record ContentScores(double unsafe, Map<Category, Double> categories) {
  public ContentScores {
    checkProbability("unsafe", unsafe);
    EnumMap<Category, Double> copy = new EnumMap<>(Category.class);
    for (Category category : Category.values()) {
      Double value = categories.get(category);
      if (value == null) {
        throw new IllegalArgumentException("Missing score for category " + category.id());
      }
      checkProbability(category.id(), value);
      copy.put(category, value);
    }
    categories = java.util.Collections.unmodifiableMap(copy);
  }

  public double score(Category category) {
    return categories.get(category);
  }

  private static void checkProbability(String name, double value) {
    if (!(value >= 0.0 && value <= 1.0)) {
      throw new IllegalArgumentException(name + " score " + value + " is not a probability");
    }
  }
}
