package io.genguard.moderation.train;

import io.genguard.moderation.scoring.Category;
import java.util.ArrayList;
import java.util.List;

/** The trained heads in a fixed order: index 0 is "unsafe", then one per {@link Category}. */
public final class Heads {
  /** Head names in index order. */
  public static final List<String> NAMES;

  static {
    List<String> names = new ArrayList<>();
    names.add("unsafe");
    for (Category category : Category.values()) {
      names.add(category.id());
    }
    NAMES = List.copyOf(names);
  }

  public static final int UNSAFE = 0;
  public static final int COUNT = NAMES.size();

  private Heads() {}

  public static int index(Category category) {
    return 1 + category.ordinal();
  }
}
