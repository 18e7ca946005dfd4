package io.genguard.moderation.policy;

import io.genguard.events.v1.Decision;
import io.genguard.moderation.policy.LocatedYaml.Node;
import io.genguard.moderation.scoring.Category;
import io.genguard.moderation.scoring.TextScreening;
import io.genguard.schemas.BoundedFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads policy files (YAML) and rejects invalid ones with the line, the column and the reason.
 *
 * <pre>
 * policyId: genguard-default          # required
 * version: "2026-11-25.1"             # required; change it whenever the content changes
 * description: free text              # optional
 * default:                            # required: the rules for every tenant not listed below
 *   categories:                       # required: every category, review &lt;= block, in 0..1
 *     hate: {review: 0.5, block: 0.9}
 *     ...
 *   unsafe: {review: 0.6, block: 0.97}  # optional: thresholds on the overall probability
 *   targetedBias: {categories: [hate, harassment, violence], minScore: 0.5, decision: BLOCK,
 *                  stereotypeThreshold: 0.8, stereotypeDecision: REVIEW}
 *   provenance: {manifestInvalid: BLOCK, manifestAbsent: RELEASE, watermarkNotDetected: RELEASE}
 *     # and watermarkNotChecked (left out: as watermarkNotDetected, never less strict) and
 *     # watermarkTooShort (left out: RELEASE, or REVIEW when watermarkNotDetected is not RELEASE)
 *     # and manifestUnknownKey (left out: the stricter of manifestInvalid and manifestAbsent;
 *     # never less strict than manifestAbsent); manifestInvalid is never less strict than
 *     # manifestAbsent either; and manifestEchoed (left out: RELEASE; a valid manifest that names
 *     # the echo backend, i.e. the tenant's own text; never stricter than manifestAbsent)
 *   failures: {scorerError: REVIEW, scorerTimeout: REVIEW}          # never RELEASE
 *   screening: {empty: REVIEW, truncated: REVIEW, invalidUtf8: REVIEW,  # these two never RELEASE
 *               unsupportedLanguage: REVIEW,
 *               obfuscated: REVIEW}   # invisible characters or look-alike letters inside words
 *   threats: {decision: REVIEW}       # a sentence that states a threat of violence
 *   sexualizedMinors: {decision: REVIEW}  # a sentence that describes a child in sexual terms
 *   framedPrejudice: {decision: RELEASE}  # "I'm not racist, but <group> are ...": off; REVIEW on
 *   selfHarm: {decision: REVIEW}      # a sentence that urges, coaches, hides or announces self-harm
 * tenants:                            # optional: per tenant, any subset of the keys of default
 *   acme:
 *     categories: {sexual: {review: 0.3}}
 *     provenance: {manifestAbsent: REVIEW}   # i.e. require a valid manifest
 * </pre>
 *
 * Sections other than {@code categories} are optional; the built-in values shown above apply when
 * they are left out. A tenant's keys override the default's key by key.
 *
 * <p>A policy requires the watermark when {@code watermarkNotDetected} is REVIEW or BLOCK. Then an
 * output whose watermark could not be checked ({@code watermarkNotChecked}: it claims a key this
 * job does not hold, or parameters no watermark of the scheme has, or the job holds no key) is held
 * at least as strictly, and one too short for the watermark to tell either way ({@code
 * watermarkTooShort}) goes to REVIEW unless the policy says otherwise.
 *
 * <p>A manifest signed with a key id the job holds no public key of ({@code manifestUnknownKey},
 * reason {@code provenance.manifest_unknown_key}) is not reported as tampering: it is a key not
 * configured yet, one removed, or a made-up id. Left out, it is held like an invalid manifest
 * (BLOCK by default), since the job cannot tell these apart; {@code manifestUnknownKey: REVIEW}
 * holds such outputs for a person instead, e.g. while a new signing key is rolled out. It may not
 * be less strict than {@code manifestAbsent}.
 *
 * <p>A VALID manifest that names the echo backend ({@code manifestEchoed}, reason {@code
 * provenance.manifest_echoed}) signs the request's prompt as it came: the tenant's own text, not a
 * generated one. Left out, it is RELEASE (such an output is judged like any other); REVIEW or BLOCK
 * holds it. It may not be stricter than {@code manifestAbsent}: an output without a valid manifest
 * could be the same text with the backend's name changed.
 *
 * <p>Fail closed: a scorer error or timeout, a text truncated for scoring (only its first {@value
 * TextScreening#DEFAULT_MAX_CHARS} characters are scored and checked by the rules) and a text that
 * is not valid UTF-8 must lead to REVIEW or BLOCK; RELEASE is refused with the line.
 */
public final class PolicyLoader {
  /** Classpath location of the policy that ships with GenGuard. */
  public static final String DEFAULT_RESOURCE = "/policies/default-policy.yaml";

  /**
   * Largest policy accepted, in bytes of a file and in characters of a text: 3 MiB, the YAML
   * parser's own limit on a document. Checked before parsing, because the parser finds a longer
   * line only after scanning it (a 30 MB line took three minutes to refuse).
   */
  public static final int MAX_POLICY_BYTES = 3 * 1024 * 1024;

  private static final Set<String> TOP_KEYS =
      Set.of("policyId", "version", "description", "default", "tenants");
  private static final Set<String> RULE_KEYS =
      Set.of(
          "categories",
          "unsafe",
          "targetedBias",
          "provenance",
          "failures",
          "screening",
          "threats",
          "sexualizedMinors",
          "framedPrejudice",
          "selfHarm");

  private PolicyLoader() {}

  /** The policy in the jar. */
  public static PolicySet loadDefault() {
    return parse(defaultText(), "classpath:" + DEFAULT_RESOURCE);
  }

  /** The text of the policy in the jar, as {@link #loadDefault()} reads and digests it. */
  public static String defaultText() {
    try (InputStream in = PolicyLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "Default policy " + DEFAULT_RESOURCE + " is not on the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + DEFAULT_RESOURCE, e);
    }
  }

  /** Loads a policy file. */
  public static PolicySet load(Path file) {
    String yaml;
    try {
      yaml = readText(file);
    } catch (UncheckedIOException e) {
      throw new InvalidPolicyException(
          file.toString(), 0, 0, "cannot read the file: " + e.getCause().getMessage());
    }
    return parse(yaml, file.toString());
  }

  /**
   * A policy file's text, read only up to {@link #MAX_POLICY_BYTES} (one larger is refused without
   * reading the rest).
   *
   * @throws InvalidPolicyException when the file is larger or is not UTF-8
   * @throws UncheckedIOException when it cannot be read
   */
  public static String readText(Path file) {
    try {
      return BoundedFiles.readUtf8(file, MAX_POLICY_BYTES);
    } catch (BoundedFiles.TooLargeException e) {
      throw tooLarge(file.toString(), "bytes");
    } catch (CharacterCodingException e) {
      throw new InvalidPolicyException(file.toString(), 0, 0, "the file is not valid UTF-8");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InvalidPolicyException tooLarge(String origin, String unit) {
    return new InvalidPolicyException(
        origin,
        0,
        0,
        "the policy is larger than " + MAX_POLICY_BYTES + " " + unit + ", the most accepted");
  }

  /**
   * Parses and validates a policy document.
   *
   * @param origin names the document in error messages
   * @throws InvalidPolicyException with line and reason
   */
  public static PolicySet parse(String yaml, String origin) {
    if (yaml.length() > MAX_POLICY_BYTES) {
      throw tooLarge(origin, "characters");
    }
    Node root = LocatedYaml.parse(yaml, origin);
    Binder binder = new Binder(origin);
    binder.requireMap(root, "the policy");
    binder.onlyKeys(root, TOP_KEYS, "the policy");
    String policyId = binder.requiredText(root, "policyId");
    String version = binder.requiredText(root, "version");
    Node defaults = binder.required(root, "default");
    binder.requireMap(defaults, "default");
    Policy defaultPolicy = binder.rules(defaults, policyId, version, "default", true);
    Map<String, Policy> tenants = new LinkedHashMap<>();
    Node tenantsNode = root.map().get("tenants");
    if (tenantsNode != null && tenantsNode.value() != null) {
      binder.requireMap(tenantsNode, "tenants");
      for (Map.Entry<String, Node> tenant : tenantsNode.map().entrySet()) {
        Node overrides = tenant.getValue();
        binder.requireMap(overrides, "tenant '" + tenant.getKey() + "'");
        Node merged = merge(defaults, overrides);
        tenants.put(
            tenant.getKey(),
            binder.rules(
                merged,
                policyId + ":" + tenant.getKey(),
                version,
                "tenant '" + tenant.getKey() + "'",
                false));
      }
    }
    return new PolicySet(policyId, version, sha256(yaml), defaultPolicy, tenants, yaml, origin);
  }

  /** Key-by-key merge: the override's nodes (and their line numbers) win. */
  static Node merge(Node base, Node override) {
    if (!base.isMap() || !override.isMap()) {
      return override;
    }
    Map<String, Node> merged = new LinkedHashMap<>(base.map());
    Map<String, int[]> keys = new LinkedHashMap<>(base.keyPositions());
    for (Map.Entry<String, Node> entry : override.map().entrySet()) {
      Node existing = merged.get(entry.getKey());
      merged.put(
          entry.getKey(), existing == null ? entry.getValue() : merge(existing, entry.getValue()));
      keys.put(entry.getKey(), override.keyPosition(entry.getKey()));
    }
    return new Node(
        java.util.Collections.unmodifiableMap(merged),
        override.line(),
        override.column(),
        java.util.Collections.unmodifiableMap(keys));
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** Turns located nodes into policy records; every error names the node's line. */
  private record Binder(String origin) {
    Policy rules(Node node, String policyId, String version, String where, boolean isDefault) {
      onlyKeys(node, RULE_KEYS, where);
      Map<String, Node> m = node.map();
      Node categoriesNode = m.get("categories");
      if (categoriesNode == null) {
        throw error(
            node,
            where
                + " has no 'categories' section; every category needs review and block thresholds");
      }
      requireMap(categoriesNode, "categories");
      Map<Category, Thresholds> categories = new EnumMap<>(Category.class);
      for (Map.Entry<String, Node> entry : categoriesNode.map().entrySet()) {
        Category category;
        try {
          category = Category.fromId(entry.getKey());
        } catch (IllegalArgumentException e) {
          throw errorAtKey(categoriesNode, entry.getKey(), e.getMessage());
        }
        categories.put(category, thresholds(entry.getValue(), "categories." + entry.getKey()));
      }
      for (Category category : Category.values()) {
        if (!categories.containsKey(category)) {
          throw error(categoriesNode, "categories has no thresholds for '" + category.id() + "'");
        }
      }
      Node unsafeNode = m.get("unsafe");
      Thresholds unsafe =
          unsafeNode == null || unsafeNode.value() == null
              ? null
              : thresholds(unsafeNode, "unsafe");
      return new Policy(
          policyId,
          version,
          categories,
          unsafe,
          targetedBias(m.get("targetedBias")),
          provenance(m.get("provenance"), where),
          failures(m.get("failures")),
          screening(m.get("screening"), where),
          new Policy.Threats(
              decisions(m.get("threats"), "threats", Map.of("decision", Decision.REVIEW))
                  .get("decision")),
          new Policy.SexualizedMinors(
              decisions(
                      m.get("sexualizedMinors"),
                      "sexualizedMinors",
                      Map.of("decision", Decision.REVIEW))
                  .get("decision")),
          new Policy.FramedPrejudice(
              decisions(
                      m.get("framedPrejudice"),
                      "framedPrejudice",
                      Map.of("decision", Decision.RELEASE))
                  .get("decision")),
          new Policy.SelfHarm(
              decisions(m.get("selfHarm"), "selfHarm", Map.of("decision", Decision.REVIEW))
                  .get("decision")));
    }

    Thresholds thresholds(Node node, String where) {
      requireMap(node, where);
      onlyKeys(node, Set.of("review", "block"), where);
      double review = probability(required(node, "review"), where + ".review");
      double block = probability(required(node, "block"), where + ".block");
      try {
        return new Thresholds(review, block);
      } catch (IllegalArgumentException e) {
        throw error(node, where + ": " + e.getMessage());
      }
    }

    Policy.TargetedBias targetedBias(Node node) {
      Set<Category> categories = EnumSet.of(Category.HATE, Category.HARASSMENT, Category.VIOLENCE);
      double minScore = 0.5;
      Decision decision = Decision.BLOCK;
      double stereotypeThreshold = 0.8;
      Decision stereotypeDecision = Decision.REVIEW;
      if (node != null && node.value() != null) {
        requireMap(node, "targetedBias");
        onlyKeys(
            node,
            Set.of(
                "categories", "minScore", "decision", "stereotypeThreshold", "stereotypeDecision"),
            "targetedBias");
        Map<String, Node> m = node.map();
        if (m.containsKey("categories")) {
          Node list = m.get("categories");
          if (!(list.value() instanceof List)) {
            throw error(list, "targetedBias.categories must be a list of category ids");
          }
          categories = EnumSet.noneOf(Category.class);
          for (Node item : list.list()) {
            try {
              categories.add(Category.fromId(text(item, "targetedBias.categories")));
            } catch (IllegalArgumentException e) {
              throw error(item, e.getMessage());
            }
          }
        }
        if (m.containsKey("minScore")) {
          minScore = probability(m.get("minScore"), "targetedBias.minScore");
        }
        if (m.containsKey("decision")) {
          decision = decision(m.get("decision"), "targetedBias.decision");
        }
        if (m.containsKey("stereotypeThreshold")) {
          stereotypeThreshold =
              probability(m.get("stereotypeThreshold"), "targetedBias.stereotypeThreshold");
        }
        if (m.containsKey("stereotypeDecision")) {
          stereotypeDecision =
              decision(m.get("stereotypeDecision"), "targetedBias.stereotypeDecision");
        }
      }
      return new Policy.TargetedBias(
          categories, minScore, decision, stereotypeThreshold, stereotypeDecision);
    }

    /**
     * The provenance rules. Left out, {@code watermarkNotChecked} is {@code watermarkNotDetected}
     * and {@code watermarkTooShort} is RELEASE, or REVIEW when the watermark is required ({@link
     * Policy.Provenance#defaultTooShort}), and {@code manifestUnknownKey} is {@link
     * Policy.Provenance#defaultUnknownKey}, and {@code manifestEchoed} is RELEASE; a {@code
     * watermarkNotChecked} less strict than {@code watermarkNotDetected}, a {@code manifestInvalid}
     * or {@code manifestUnknownKey} less strict than {@code manifestAbsent}, or a {@code
     * manifestEchoed} stricter than {@code manifestAbsent}, is refused.
     */
    Policy.Provenance provenance(Node node, String where) {
      Map<String, Decision> d =
          decisions(
              node,
              "provenance",
              Map.of(
                  "manifestInvalid",
                  Decision.BLOCK,
                  "manifestAbsent",
                  Decision.RELEASE,
                  "watermarkNotDetected",
                  Decision.RELEASE,
                  "watermarkNotChecked",
                  Decision.RELEASE,
                  "watermarkTooShort",
                  Decision.RELEASE,
                  "manifestUnknownKey",
                  Decision.BLOCK,
                  "manifestEchoed",
                  Decision.RELEASE));
      boolean given = node != null && node.value() != null;
      Decision notDetected = d.get("watermarkNotDetected");
      Decision notChecked = notDetected;
      if (given && node.map().containsKey("watermarkNotChecked")) {
        notChecked = d.get("watermarkNotChecked");
        if (PolicyEngine.stricter(notChecked, notDetected) != notChecked) {
          throw errorAtKey(
              node,
              "watermarkNotChecked",
              "provenance.watermarkNotChecked is "
                  + notChecked
                  + " but watermarkNotDetected is "
                  + notDetected
                  + " in "
                  + where
                  + "; a watermark that cannot be checked (a key this job does not hold,"
                  + " parameters no watermark has) must be held at least as strictly as one not"
                  + " detected, or a bogus claim would get around the requirement");
        }
      }
      Decision tooShort =
          given && node.map().containsKey("watermarkTooShort")
              ? d.get("watermarkTooShort")
              : Policy.Provenance.defaultTooShort(notDetected);
      Decision absent = d.get("manifestAbsent");
      Decision invalid = d.get("manifestInvalid");
      if (PolicyEngine.stricter(invalid, absent) != invalid) {
        throw errorAtKey(
            node,
            given && node.map().containsKey("manifestInvalid")
                ? "manifestInvalid"
                : "manifestAbsent",
            "provenance.manifestInvalid is "
                + invalid
                + " but manifestAbsent is "
                + absent
                + " in "
                + where
                + "; a tampered or forged manifest proves no more than none, so it must be held at"
                + " least as strictly as a missing one, or attaching any broken manifest would get"
                + " around the requirement");
      }
      Decision unknownKey = Policy.Provenance.defaultUnknownKey(invalid, absent);
      if (given && node.map().containsKey("manifestUnknownKey")) {
        unknownKey = d.get("manifestUnknownKey");
        if (PolicyEngine.stricter(unknownKey, absent) != unknownKey) {
          throw errorAtKey(
              node,
              "manifestUnknownKey",
              "provenance.manifestUnknownKey is "
                  + unknownKey
                  + " but manifestAbsent is "
                  + absent
                  + " in "
                  + where
                  + "; a manifest under a signing key this job does not know proves no more than"
                  + " none, so it must be held at least as strictly as a missing one, or any"
                  + " made-up key id would get around the requirement");
        }
      }
      Decision echoed = d.get("manifestEchoed");
      if (PolicyEngine.stricter(absent, echoed) != absent) {
        throw errorAtKey(
            node,
            "manifestEchoed",
            "provenance.manifestEchoed is "
                + echoed
                + " but manifestAbsent is "
                + absent
                + " in "
                + where
                + "; only a valid manifest shows that an output came from the echo backend, so an"
                + " output without one must be held at least as strictly, or leaving out the"
                + " manifest (and changing the backend's name) would get the tenant's own text"
                + " around the rule");
      }
      return new Policy.Provenance(
          invalid, absent, notDetected, notChecked, tooShort, unknownKey, echoed);
    }

    Policy.Failures failures(Node node) {
      Map<String, Decision> d =
          decisions(
              node,
              "failures",
              Map.of("scorerError", Decision.REVIEW, "scorerTimeout", Decision.REVIEW));
      for (String key : List.of("scorerError", "scorerTimeout")) {
        if (d.get(key) == Decision.RELEASE) {
          throw errorAtKey(
              node,
              key,
              "failures."
                  + key
                  + " is RELEASE; a scorer that fails or times out must lead to REVIEW or BLOCK"
                  + " (fail closed)");
        }
      }
      return new Policy.Failures(d.get("scorerError"), d.get("scorerTimeout"));
    }

    /** The screening rules; {@code truncated} and {@code invalidUtf8} may not be RELEASE. */
    Policy.Screening screening(Node node, String where) {
      Map<String, Decision> d =
          decisions(
              node,
              "screening",
              Map.of(
                  "empty",
                  Decision.REVIEW,
                  "truncated",
                  Decision.REVIEW,
                  "invalidUtf8",
                  Decision.REVIEW,
                  "unsupportedLanguage",
                  Decision.REVIEW,
                  "obfuscated",
                  Decision.REVIEW));
      for (String key : List.of("truncated", "invalidUtf8")) {
        if (d.get(key) == Decision.RELEASE) {
          throw errorAtKey(
              node,
              key,
              "screening."
                  + key
                  + " is RELEASE in "
                  + where
                  + "; "
                  + (key.equals("truncated")
                      ? "only the first "
                          + TextScreening.DEFAULT_MAX_CHARS
                          + " characters of such"
                          + " a text are scored and checked by the rules, so the rest would be"
                          + " released unread"
                      : "such a text is scored with replacement characters where it could not be"
                          + " decoded, which can hide words from the scores and rules")
                  + "; use REVIEW or BLOCK (fail closed)");
        }
      }
      return new Policy.Screening(
          d.get("empty"),
          d.get("truncated"),
          d.get("invalidUtf8"),
          d.get("unsupportedLanguage"),
          d.get("obfuscated"));
    }

    Map<String, Decision> decisions(Node node, String where, Map<String, Decision> defaults) {
      Map<String, Decision> result = new LinkedHashMap<>(defaults);
      if (node == null || node.value() == null) {
        return result;
      }
      requireMap(node, where);
      onlyKeys(node, defaults.keySet(), where);
      node.map().forEach((key, value) -> result.put(key, decision(value, where + "." + key)));
      return result;
    }

    Decision decision(Node node, String where) {
      String value = text(node, where);
      try {
        return Decision.valueOf(value.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error(node, where + " is '" + value + "'; expected RELEASE, REVIEW or BLOCK");
      }
    }

    double probability(Node node, String where) {
      String value = text(node, where);
      double parsed;
      try {
        parsed = Double.parseDouble(value.strip());
      } catch (NumberFormatException e) {
        throw error(node, where + " is '" + value + "'; expected a number in 0..1");
      }
      if (!(parsed >= 0 && parsed <= 1)) {
        throw error(node, where + " is " + value + "; thresholds are probabilities in 0..1");
      }
      return parsed;
    }

    String requiredText(Node map, String key) {
      String value = text(required(map, key), key);
      if (value.isBlank()) {
        throw error(map.map().get(key), key + " must not be blank");
      }
      return value.strip();
    }

    String text(Node node, String where) {
      if (node.value() == null) {
        throw error(node, where + " has no value");
      }
      if (!node.isScalar()) {
        throw error(
            node, where + " must be a single value, not a " + (node.isMap() ? "mapping" : "list"));
      }
      return node.text();
    }

    Node required(Node map, String key) {
      Node value = map.map().get(key);
      if (value == null) {
        throw error(map, "missing required key '" + key + "'");
      }
      return value;
    }

    void requireMap(Node node, String where) {
      if (!node.isMap()) {
        throw error(node, where + " must be a mapping (key: value lines)");
      }
    }

    void onlyKeys(Node node, Set<String> allowed, String where) {
      for (Map.Entry<String, Node> entry : node.map().entrySet()) {
        if (!allowed.contains(entry.getKey())) {
          throw errorAtKey(
              node,
              entry.getKey(),
              "unknown key '"
                  + entry.getKey()
                  + "' in "
                  + where
                  + "; allowed: "
                  + new java.util.TreeSet<>(allowed));
        }
      }
    }

    InvalidPolicyException errorAtKey(Node map, String key, String reason) {
      int[] at = map.keyPosition(key);
      return new InvalidPolicyException(origin, at[0], at[1], reason);
    }

    InvalidPolicyException error(Node node, String reason) {
      return new InvalidPolicyException(origin, node.line(), node.column(), reason);
    }
  }
}
