package io.genguard.moderation.bias;

import io.genguard.moderation.scoring.HashedNgramFeatures;
import io.genguard.moderation.scoring.TextNormalizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The project's identity lexicon ({@code /bias/identity-lexicon.tsv}): words and phrases that name
 * a demographic group, on eight axes. Finds mentions in a text, longest phrase first; ambiguous
 * adjectives ("black", "old", "straight") count only before a person noun. Immutable, thread-safe.
 */
public final class IdentityLexicon {
  /** Classpath location of the lexicon. */
  public static final String RESOURCE = "/bias/identity-lexicon.tsv";

  /** The identity axes, as they appear in group ids. */
  public static final List<String> AXES =
      List.of(
          "gender",
          "gender_identity",
          "sexual_orientation",
          "race_ethnicity",
          "religion",
          "nationality",
          "disability",
          "age");

  /** One lexicon entry. */
  public record Entry(
      String axis, String group, List<String> words, boolean needsPersonNoun, boolean slur) {
    /** The group id carried in verdicts: {@code axis:group}. */
    public String groupId() {
      return axis + ":" + group;
    }
  }

  /**
   * One mention found in a text.
   *
   * @param entry what matched
   * @param start index of the first matched word
   * @param end index after the last matched word (including a person noun that qualified it)
   */
  public record Mention(Entry entry, int start, int end) {}

  /** Words after which an ambiguous adjective names people ("black people", "old man"). */
  static final Set<String> PERSON_NOUNS =
      Set.of(
          "people",
          "person",
          "persons",
          "man",
          "men",
          "woman",
          "women",
          "guy",
          "guys",
          "girl",
          "girls",
          "boy",
          "boys",
          "kid",
          "kids",
          "child",
          "children",
          "folk",
          "folks",
          "community",
          "communities",
          "family",
          "families",
          "individual",
          "individuals",
          "student",
          "students",
          "neighbor",
          "neighbors",
          "neighbour",
          "neighbours",
          "friend",
          "friends",
          "lives",
          "population",
          "parent",
          "parents",
          "mother",
          "mothers",
          "father",
          "fathers",
          "teen",
          "teens",
          "lady",
          "ladies",
          "gentleman",
          "gentlemen",
          "citizen",
          "citizens",
          "worker",
          "workers",
          "voter",
          "voters",
          "patient",
          "patients",
          "employee",
          "employees",
          "adult",
          "adults",
          "couple",
          "couples",
          "youth",
          "dude",
          "dudes",
          "brother",
          "brothers",
          "sister",
          "sisters",
          "wife",
          "husband",
          "culture",
          "americans",
          "immigrants",
          "veteran",
          "veterans",
          "athlete",
          "athletes",
          "doctor",
          "doctors",
          "teacher",
          "teachers",
          "author",
          "authors",
          "artist",
          "artists",
          "females",
          "males",
          "female",
          "male",
          "community's",
          "kids'",
          "folks'",
          "son",
          "sons",
          "daughter",
          "daughters",
          "grandparents",
          "grandmother",
          "grandfather",
          "generation",
          "generations",
          "singles",
          "hires",
          "applicants");

  /**
   * Bits of the first-word filter ({@link #startsNoEntry}): 2^16, 8 KiB ({@link #firstWordBit}).
   */
  private static final int FIRST_WORD_BITS = 1 << 16;

  private final Map<String, List<Entry>> byFirstWord;

  /** A bit set by the hash code of every first word of an entry ({@link #startsNoEntry}). */
  private final long[] firstWordHashes = new long[FIRST_WORD_BITS / 64];

  private final List<Entry> entries;
  private final String version;

  IdentityLexicon(List<Entry> entries, String version) {
    Map<String, List<Entry>> index = new HashMap<>();
    for (Entry entry : entries) {
      index.computeIfAbsent(entry.words().get(0), k -> new ArrayList<>()).add(entry);
    }
    // Longest phrase first, so "trans women" wins over "trans".
    index.values().forEach(list -> list.sort((a, b) -> b.words().size() - a.words().size()));
    this.byFirstWord = Map.copyOf(index);
    for (String first : byFirstWord.keySet()) {
      int bit = firstWordBit(first.hashCode());
      firstWordHashes[bit >>> 6] |= 1L << bit;
    }
    this.entries = List.copyOf(entries);
    this.version = version;
  }

  /** The lexicon in the jar. */
  public static IdentityLexicon loadDefault() {
    try (InputStream in = IdentityLexicon.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "Identity lexicon " + RESOURCE + " is not on the classpath");
      }
      byte[] bytes = in.readAllBytes();
      return parse(
          new String(bytes, StandardCharsets.UTF_8),
          RESOURCE,
          "1.0.0+sha256:" + shortDigest(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RESOURCE, e);
    }
  }

  static IdentityLexicon parse(String tsv, String origin, String version) {
    List<Entry> entries = new ArrayList<>();
    int lineNumber = 0;
    try (BufferedReader reader = new BufferedReader(new java.io.StringReader(tsv))) {
      String line;
      while ((line = reader.readLine()) != null) {
        lineNumber++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] columns = line.split("\t");
        if (columns.length != 4) {
          throw new IllegalArgumentException(
              origin
                  + " line "
                  + lineNumber
                  + ": expected 4 tab-separated columns, got "
                  + columns.length);
        }
        if (!AXES.contains(columns[0])) {
          throw new IllegalArgumentException(
              origin
                  + " line "
                  + lineNumber
                  + ": unknown axis '"
                  + columns[0]
                  + "'; axes are "
                  + AXES);
        }
        String flags = columns[3].strip();
        if (!Set.of("-", "noun", "slur").contains(flags)) {
          throw new IllegalArgumentException(
              origin
                  + " line "
                  + lineNumber
                  + ": flags must be -, noun or slur, got '"
                  + flags
                  + "'");
        }
        List<String> words = Arrays.asList(columns[2].strip().split(" "));
        entries.add(
            new Entry(
                columns[0],
                columns[1],
                List.copyOf(words),
                flags.equals("noun"),
                flags.equals("slur")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new IdentityLexicon(entries, version);
  }

  public String version() {
    return version;
  }

  /** Every word of every phrase (each phrase's words, slurs included). */
  public Set<String> words() {
    Set<String> words = new java.util.TreeSet<>();
    for (Entry entry : entries) {
      words.addAll(entry.words());
    }
    return words;
  }

  public int size() {
    return entries.size();
  }

  /** Every entry, in file order. */
  public List<Entry> entries() {
    return entries;
  }

  /** Words of a text as the lexicon sees them (normalized, lower case). */
  public static List<String> words(String text) {
    return HashedNgramFeatures.words(TextNormalizer.normalize(text));
  }

  /** Every mention in the word sequence, left to right, not overlapping. */
  public List<Mention> mentions(List<String> words) {
    List<Mention> mentions = new ArrayList<>();
    int i = 0;
    while (i < words.size()) {
      Mention found = matchAt(words, i);
      if (found != null) {
        mentions.add(found);
        // Continue right after the phrase, not after the person noun: "gay black men" has two.
        i = found.start() + found.entry().words().size();
      } else {
        i++;
      }
    }
    return mentions;
  }

  /**
   * True only when no word of {@code words} (each run between its spaces, as splitting at every
   * space gives them) is the first word of an entry, so that {@link #mentions} of them finds none;
   * false when one may be. Each word's {@link String#hashCode} is computed in place and looked up
   * in a bit set of the first words' hash codes: no substring, no array, no map lookup per word.
   * False does not mean a mention (a hash can collide, a first word need not start a whole entry):
   * the caller then looks the words up.
   */
  boolean startsNoEntry(String words) {
    int hash = 0;
    for (int i = 0; i <= words.length(); i++) {
      char c = i < words.length() ? words.charAt(i) : ' ';
      if (c != ' ') {
        hash = 31 * hash + c;
        continue;
      }
      int bit = firstWordBit(hash);
      if ((firstWordHashes[bit >>> 6] & (1L << bit)) != 0) {
        return false;
      }
      hash = 0;
    }
    return true;
  }

  /**
   * The filter's bit for a hash code: its top 16 bits after a multiplication by the golden ratio
   * (Fibonacci hashing), which mixes every bit of the hash code in; the low bits alone put "the" on
   * the bit of "straight".
   */
  private static int firstWordBit(int hash) {
    return (hash * 0x9E3779B9) >>> 16;
  }

  private Mention matchAt(List<String> words, int i) {
    List<Entry> candidates = byFirstWord.get(words.get(i));
    if (candidates == null) {
      return null;
    }
    for (Entry entry : candidates) {
      int n = entry.words().size();
      if (i + n > words.size() || !words.subList(i, i + n).equals(entry.words())) {
        continue;
      }
      if (!entry.needsPersonNoun()) {
        return new Mention(entry, i, i + n);
      }
      int noun = personNounAfter(words, i + n);
      if (noun >= 0) {
        return new Mention(entry, i, noun + 1);
      }
    }
    return null;
  }

  /**
   * Index of a person noun at {@code from} or one identity word later ("black trans women"), else
   * -1.
   */
  private int personNounAfter(List<String> words, int from) {
    for (int k = from; k < Math.min(words.size(), from + 3); k++) {
      String word = words.get(k);
      if (PERSON_NOUNS.contains(word)) {
        return k;
      }
      if (!byFirstWord.containsKey(word)) {
        return -1;
      }
    }
    return -1;
  }

  static String shortDigest(byte[] bytes) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))
          .substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
