package io.genguard.moderation.scoring;

import io.genguard.moderation.scoring.PatternRules.Rule;
import java.util.List;

/**
 * Finds texts that urge, coach, hide or announce self-harm, suicide or disordered eating by their
 * shape: the reader told to kill or hurt themselves ("do everyone a favor and kill yourself", "the
 * world would be better without you"), eating-disorder coaching ("eat under 500 calories a day",
 * "skip meals for three days", "throw up after meals"), ways to hide it ("hide the marks from your
 * parents", "say you already ate"), and a writer announcing their own suicide or self-harm ("I'm
 * going to end my life tonight"). The learned heads release about a third of such texts
 * (QUALITY.md, "Self-harm, suicide and disordered eating"): coaching reads like diet advice and
 * concealment like household tips, and the public sets hold about ten self-harm texts in the test
 * split. A rule states its evidence: every match names its rule and the words that matched.
 *
 * <p>Not a probability: policy maps a match to a decision ({@code selfHarm.decision}, REVIEW by
 * default). What it leaves alone on purpose: crisis lines, recovery stories ("I was starving
 * myself"), clinical and news text ("warning signs include skipping meals"), advice against it
 * ("never take laxatives to lose weight"), figurative speech ("this commute is killing me", "I
 * could kill for a pizza"). What it misses: encouragement and plans without these words, slogans
 * ("bones are beautiful"), other languages. Quoted speech and fiction match too; REVIEW lets a
 * person decide.
 *
 * <p>Stateless and thread-safe; plain Java, so the stream job, the batch command and the quality
 * report share it.
 */
public final class SelfHarmPatterns {
  /**
   * Version recorded in every verdict; change it whenever a pattern or how sentences are read
   * changes (1.1.2: a sentence over 600 characters is read in windows, {@link RuleSentence}; 1.1.3:
   * invisible characters and look-alike letters inside words are read away, {@link Obfuscation}).
   */
  public static final String VERSION = "1.1.3";

  /** Name of this component in verdicts' version maps. */
  public static final String NAME = "self-harm-patterns";

  /** Matches kept per text, as for {@link ThreatPatterns#MAX_MATCHES}. */
  public static final int MAX_MATCHES = ThreatPatterns.MAX_MATCHES;

  // Up to two words that are not a negation, the start of advice against it ("you should never",
  // "if you ever feel like you want to") or someone else ("you should watch them die").
  private static final String GAP =
      "(?:(?!(?:not|never|no|if|when|whenever|because|instead|without|stop|want|wanted|feel"
          + "|feeling|urge|thinking|thought|thoughts|afraid|worry|them|him|her|they|he|she|it"
          + "|see|watch)\\b)[a-z0-9]+ ){0,2}?";
  // Where an imperative starts a sentence: "Kill yourself.", "Just die.", "Go cut yourself."
  private static final String IMPERATIVE =
      "^(?:so |then |and |now |please |pls |just |seriously |honestly |lol |go |go and |go ahead and"
          + " |keep )*";
  // Words that urge the reader on.
  private static final String URGING =
      "\\b(?:you should|you need to|you ought to|you have to|you deserve to|you better|go ahead and"
          + "|if i were you i would|(?:guts|courage|balls|nerve) to(?: finally)?"
          + "|why do not you|why not|do (?:us|me|everyone|everybody|the world|your family"
          + "|your parents|yourself) (?:all )?a favou?r and|the (?:only|best|kindest|smartest)"
          + " (?:real )?(?:way out|thing you (?:can|could) do(?: for [a-z]+(?: [a-z]+)?)?)"
          + " is(?: to)?) ";
  private static final String KILL_SELF =
      "(?:kill yourself|kill urself|kys|end it all|end it(?= already| tonight| for good|$)"
          + "|end your (?:own )?life|take your (?:own )?life|off yourself|hang yourself"
          + "|unalive yourself|die already|die|disappear for good|commit suicide|end your suffering"
          + "|kill myself)\\b"
          // Not "kill yourself laughing", "die of embarrassment", "Die Hard".
          + "(?! (?:with|by|there|here|early|laughing|working|over|of|hard|trying|for|cast|casting"
          + "|another|a little)\\b)";
  private static final String HARM_SELF =
      "(?:cut|burn|hurt|punish|scratch|hit|bruise|starve|harm|beat|slap|choke)(?:s|ing)? yourself"
          + "\\b"
          // "Cut yourself some slack", "hurt yourself laughing", "beat yourself up about it".
          + "(?! (?:some slack|a|an|some|short|off|out|laughing|up|free|on|with the|while)\\b)";
  private static final String AUDIENCE =
      "(?:nobody|no one|noone|nobody else|your parents|your mom|your mum|your dad|your family"
          + "|your friends|your teacher|your teachers|your doctor|your therapist|the nurse"
          + "|the doctor|they|people|anyone)";
  private static final String NOTICING =
      "(?:see|sees|notice|notices|ask|asks|hear|hears|find out|finds out|can tell|know|knows"
          + "|suspect|suspects|catch|catches|question|questions)";
  private static final String MARKS =
      "(?:marks|cuts|scars|bruises|burns|wounds|scratches|fresh cuts|new cuts|self harm|cutting"
          + "|blades|razor|razors|razor blades)";
  private static final String ED_WORDS =
      "(?:eating disorder|purging|bulimia|anorexia|weight loss|not eating|starving|skipping meals"
          + "|that you are not eating|that you do not eat)";
  private static final String FEW =
      "(?:[2-9]|two|three|four|five|six|seven|a few|several|a couple of)";

  private static final PatternRules RULES =
      new PatternRules(
          // "Do everyone a favor and kill yourself", "you should just end it", "kys".
          new Rule(
              "urged-suicide",
              "yourself urself kys end die disappear suicide myself life jump",
              IMPERATIVE
                  + KILL_SELF
                  + "|"
                  + URGING
                  + GAP
                  + KILL_SELF
                  + "|\\bkys\\b"
                  // Since 1.1: "you're ugly, kill yourself" anywhere, unless advice or a fear
                  // ("don't kill yourself", "you'll kill yourself working", "how to ...").
                  + "|(?<!not |never |to |you |would |will |could |might |almost |nearly |should )"
                  + "\\b(?:kill yourself|kill urself|hang yourself|off yourself|unalive yourself)\\b"
                  + "(?! (?:with|by|laughing|working|over|trying|for|if)\\b)"
                  + "|\\b(?:go|just|should|please) jump off (?:a|the) (?:bridge|cliff|roof|building)\\b"),
          // "The world would be better without you", "nobody would even notice you were gone",
          // "suicide is the smartest decision".
          new Rule(
              "better-off-dead",
              "better happier relieved miss care notice suicide killing ending worth cares favor favour"
                  + " kindness service deserve should",
              "\\b(?:the world|everyone|everybody|your family|your parents|your friends|we|they)"
                  + " (?:would|will) (?:all )?be (?:a )?(?:better|happier|relieved)"
                  + "(?: place| off)?(?: [a-z]+)? (?:without you|if you (?:died|were dead|were gone"
                  + "|never came (?:home|back)|disappeared|killed yourself|just died))"
                  + "|\\b(?:nobody|no one) (?:would|will|is going to)(?: even)? (?:miss you"
                  // Not "nobody will miss you at the meeting".
                  + "(?! (?:at|in|on|for|during|there|here|today|tonight|this|next)\\b)"
                  + "|care if you (?:die|died|were gone|were dead)|notice (?:if )?you (?:were|are)"
                  + " gone|notice if you (?:died|disappeared|killed yourself))"
                  + "|\\b(?:suicide|killing yourself|ending your life|ending it) is (?:really )?"
                  + "(?:the |a |your )?(?:smartest|best|right|only|easiest|bravest|brave|logical"
                  + "|kindest|smart|good) (?:real )?(?:choice|decision|option|answer|way out|thing)"
                  + "|\\b(?:your life|life) is not worth living for (?:someone |people )?(?:like )?you"
                  + "|\\bnobody cares (?:whether|if) you live or die"
                  + "|\\byou (?:do not|do not even) deserve to (?:live|be alive|exist)\\b"
                  + "|\\byou should not (?:even )?(?:be alive|exist|have been born)\\b"
                  + "|\\b(?:doing|do) (?:the world|everyone|everybody|us all|us|your family) a"
                  + " (?:favou?r|kindness|service) (?:if you|by) (?:[a-z]+ ){0,2}?(?:stopped breathing|died|killed"
                  + " yourself|disappeared|dying|killing yourself|were dead|ending it)"),
          // "Punish yourself every time you fail", "go cut yourself", "cut deeper than last time",
          // "scratch your arms until they bleed".
          new Rule(
              "urged-self-harm",
              "yourself deeper until",
              IMPERATIVE
                  + HARM_SELF
                  + "|"
                  + URGING
                  + GAP
                  + HARM_SELF
                  + "|\\bcut (?:a little |a bit |even )?deeper\\b"
                  + "|\\b(?:cut|scratch|burn|carve|hit|bang|slam)(?:ting|ing)? (?:your|my) (?:arms"
                  + "|arm|wrists|wrist|legs|thighs|skin|stomach|head)(?: [a-z]+){0,4}? until"
                  + " (?:they|it|you|i) (?:bleed|bleeds|bruise|bruises|scar|scars|see stars)\\b"),
          // "Eating under 500 calories a day is fine", "skip meals for three days", "throw up
          // after meals", "hunger is just weakness leaving your body", "just starve".
          new Rule(
              "eating-disorder-coaching",
              "calories cals kcal skip skipping eat eating throw throwing purge purging puke puking"
                  + " yourself laxatives laxative hunger deserve starve starving starved thinspo"
                  + " thinspiration meanspo ana ignore chew faint pass black dizzy fasting",
              "(?<!not |never |no |who |they |people |patients |children |he |she |often )\\b(?:eat|eating|have|having|stay|staying|stick to|keep it)"
                  + " (?:only )?(?:under|below|less than|fewer than|no more than|only)"
                  + " (?:[1-9][0-9]{1,2}|a few hundred|one hundred|two hundred|three hundred"
                  + "|four hundred|five hundred|six hundred|seven hundred|eight hundred)"
                  + " (?:calories|cals|kcal) (?:a|per|each) day\\b"
                  + "|\\b[1-9][0-9]{1,2} (?:calories|cals|kcal) (?:a day |per day |daily )?(?:max"
                  + "|maximum|tops|at most|or less)\\b"
                  // Since 1.1 without "a day", but not a recipe's "per serving".
                  + "(?! (?:per|a|each|in|for) (?:serving|portion|slice|bar|cup|meal|snack))"
                  + "|\\bchew (?:your |the |my )?(?:food|it|meals|meal|dinner|lunch|candy|cake"
                  + "|cookies|chips|bread) (?:and |then )?spit (?:it )?out\\b"
                  + "|\\byou (?:do not get to|are not allowed to|have not earned the right to|have to"
                  + " earn the right to) eat\\b"
                  + "(?! (?:in|at|here|there|on|during|that|this|those|these|inside|with)\\b)"
                  + "|\\b(?:fasting|starving|not eating|skipping meals|eating nothing) for (?:a week|a"
                  + " whole week|a month|"
                  + FEW
                  + " (?:days|weeks))(?: straight)? is (?:the )?(?:fastest|best|easiest|quickest"
                  + "|only) way\\b"
                  + "|\\b(?:faint|pass out|black out|feel dizzy|get dizzy|feel faint)(?: [a-z]+){0,2}?"
                  + " (?:you are|it means you are|that means you are|means it is) (?:doing it right"
                  + "|winning|working)\\b"
                  + "|\\b(?:should|must|needs to|need to|ought to|has to|have to) (?:be )?starv(?:e"
                  + "|ing) (?:themselves|yourself|herself|himself)\\b"
                  + "|(?<!not |never |no |who |they |people |patients |children |he |she |often )\\bskip(?:ping)? (?:all )?(?:your )?(?:meals|breakfast|lunch"
                  + "|dinner|every meal|food|eating)(?: and (?:breakfast|lunch|dinner))? for "
                  + FEW
                  + " (?:days|weeks)\\b"
                  + "|(?<!not |never |no |who |they |people |patients |children |he |she |often )\\b(?:eat|eating) (?:nothing|only) (?:but )?(?:[a-z]+ ){1,3}?"
                  + "(?:a day|per day|all day|for "
                  + FEW
                  + " days)\\b"
                  + "|\\b(?:throw up|throwing up|purge|purging|puke|puking) (?:right )?"
                  + "(?:after|once you finish) (?:every |each |your |a |the |big )?(?:meal|meals"
                  + "|dinner|lunch|breakfast|eating|binge|you eat)\\b"
                  // Not "purging after meals is a symptom of bulimia".
                  + "(?! (?:is|are|can be|may be|could be) (?:a |one )?(?:common |key |warning )?"
                  + "(?:sign|signs|symptom|symptoms|warning))"
                  + "|\\bmake yourself (?:sick|throw up|vomit|puke) (?:after|afterwards|so it)"
                  + "|\\blaxatives after (?:every|each) meal"
                  + "|\\bhunger is (?:just |only )?(?:weakness|your body|fat|the feeling)"
                  + "|\\byou (?:do not|do not even) deserve (?:food|to eat)\\b"
                  + "|(?<!not |never |stop )\\b(?:just starve|starve yourself|keep starving"
                  + "|starving yourself (?:is|works))\\b"
                  + "|\\b(?:thinspo|thinspiration|pro ana|meanspo) (?:tip|tips|rule|rules"
                  + "|reminder|challenge)\\b"
                  + "|^(?:thinspo|thinspiration|meanspo|pro ana)\\b"
                  + "|\\bignore (?:the |your )?(?:hunger|dizziness|hunger pangs|fainting)\\b"
                  + "|(?<!not |never )\\b(?:stop|quit) eating (?:entirely |completely |altogether )?"
                  + "for (?:a week|a month|"
                  + FEW
                  + " (?:days|weeks))\\b"
                  + "|^(?:just )?(?:stop|quit) eating(?: entirely| completely| altogether)?(?: and|$)"
                  + "|\\bpro ana (?:girls|girl|tips|rules|friends)\\b"
                  + "|\\b(?:have not|has not) starved (?:hard |long )?enough\\b"
                  + "|(?<!not |never |not to |never to )\\b(?:take|drink|use|try) (?:[a-z]+ ){0,2}?"
                  + "(?:laxatives|laxative)"
                  + " (?:[a-z]+ ){0,6}?(?:lose weight|lose the weight|weight loss|stay thin)\\b"),
          // "Hide the marks on your arms from your parents", "wear long sleeves so nobody asks
          // about your cuts", "say you already ate", "drink lots of water before you get weighed".
          new Rule(
              "hidden-self-harm",
              "hide hiding conceal concealing cover covering marks cuts scars bruises burns wounds scratches harm cutting blades razor razors purg* throw throwing vomit* sick ate lunch dinner breakfast think thinks believe believes scratched food weigh* cut"
                  + " bandages starve",
              "\\b(?:hide|hiding|conceal|concealing) (?:your |the )?(?:"
                  + ED_WORDS
                  + "|blades|razor|razors|razor blades|fresh cuts|new cuts|cutting|self harm)\\b"
                  + "|\\b(?:hide|hiding|cover|covering|conceal|concealing) (?:up )?(?:the |your"
                  + " |those |these |any )?(?:fresh |new )?(?:marks|cuts|scars|bruises|burns)"
                  + " (?:[a-z]+ ){0,4}?(?:from (?:your |the )?(?:parents|mom|dad|mum|family"
                  + "|teacher|teachers|friends|doctor|therapist|nurse|school|everyone)|so (?:that )?"
                  + AUDIENCE
                  + " (?:will |can |does not |do not |will not |can not |never )?"
                  + NOTICING
                  + ")\\b"
                  + "|\\bso (?:that )?"
                  + AUDIENCE
                  + " (?:[a-z]+ ){0,2}?"
                  + NOTICING
                  + " (?:about )?(?:your |the |those )?"
                  + MARKS
                  + "\\b"
                  + "|\\b(?:purg|throw(?:ing)? up|vomit|make yourself sick)[a-z]*"
                  + " (?:[a-z]+ ){0,8}?(?:so|while|when) (?:that )?(?:nobody|no one|your"
                  + " parents) (?:[a-z]+ ){0,2}?(?:hears|notices|sees|asks|finds out|can tell"
                  + "|knows|is looking|are looking|is home|is around)\\b"
                  + "|\\b(?:say|tell (?:them|your parents|your mom|your mum|your dad|everyone"
                  + "|people)) (?:that )?you (?:already )?(?:ate|had (?:lunch|dinner|breakfast))"
                  + " (?:already |at |with |before )"
                  + "|\\bso (?:that )?"
                  + AUDIENCE
                  + " (?:will )?(?:think|thinks|believe|believes) you (?:ate|had (?:lunch|dinner"
                  + "|breakfast)|are eating|have eaten|are gaining)\\b"
                  + "|\\b(?:tell|telling|say|saying)(?: to)? (?:them|him|her|your parents|your mom"
                  + "|your mum|your dad|the nurse|the doctor|your doctor|the teacher|your teacher"
                  + "|your therapist|people|everyone|anyone)(?: that)? (?:the |your |those )?(?:scars"
                  + "|cuts|marks|bruises|burns|bandages|scratches) (?:are|were|came) from\\b"
                  + "|\\b(?:help|helps|helping) (?:you|me) (?:to )?(?:cut|purge|starve)\\b"
                  + "(?! (?:your|the|my|her|his|out|back|down|costs|it|them|through|up|off|a|an"
                  + "|some|that|this)\\b)"
                  + "|\\b(?:tell|telling) (?:them|your parents|your mom|your mum|your dad|people"
                  + "|everyone) (?:that )?the (?:cat|dog) scratched you"
                  + "|\\b(?:flush|hide|throw away|throw out|feed) (?:your |the )?food (?:[a-z]+ )"
                  + "{0,3}?(?:when|while|so) (?:nobody|no one)"
                  + "|\\b(?:drink|drinking|chug) (?:[a-z]+ ){0,3}?water (?:[a-z]+ ){0,2}?before"
                  + " (?:you (?:get|are) weighed|(?:the |your )?weigh ins?|weighing in)"
                  + "|\\b(?:heavy clothes|weights|ankle weights|coins) (?:[a-z]+ ){0,4}?(?:before"
                  + "|for|at|during) (?:you (?:get|are) weighed|(?:the |your |a )?weigh ins?"
                  + "|weighing in)"
                  + "|\\bcut (?:[a-z]+ ){0,3}?where (?:[a-z]+ ){0,3}?(?:covers|cover|will not see"
                  + "|can not see|nobody (?:can|will) see|no one (?:can|will) see)\\b"
                  + "|\\byour (?:blades|razors|razor) (?:[a-z]+ ){0,6}?(?:get new ones|buy new"
                  + " ones|hide them)\\b"),
          // "I'm going to end my life tonight", "I've been cutting myself again".
          new Rule(
              "own-self-harm",
              "myself end life suicide die overdose walk swim drive jump pills pill tablets meds medication painkillers razor blade lighter cutting burning hitting scratching starving purging hurting",
              "\\bi (?:am|will|have decided to|want to|am about to|plan to|am planning to)"
                  + " (?:(?!not |never )[a-z]+ ){0,3}?(?:kill myself|end my life|end it all"
                  + "|end it tonight|take my (?:own )?life|commit suicide)\\b"
                  + "(?! (?:laughing|if|when|with|over|trying)\\b)"
                  + "|\\bi want to die\\b(?! (?:of|laughing|when|if|in|on|with)\\b)"
                  + "|\\bi (?:am|will|have decided to|plan to|am planning to) (?:(?!not |never )[a-z]+"
                  + " ){0,2}?overdose\\b"
                  + "|\\bi (?:will|am going to|am gonna) (?:[a-z]+ ){0,6}?(?:take|swallow) (?:all|every)"
                  + " (?:of )?(?:my |the )?(?:[a-z]+ )?(?:pills|pill|tablets|meds)\\b"
                  // Habitual, not "I cut myself with a razor when shaving".
                  + "|\\bi (?:cut|scratch|burn) (?:myself|my (?:arms|wrists|legs|thighs|skin)) with"
                  + " (?:a |my )?(?:razor|blade|lighter) (?:every|each|again|to feel|until)\\b"
                  + "|\\b(?:starving|cutting|hurting|burning|purging) myself is (?:the only|the best"
                  + "|what)\\b"
                  + "|\\bi (?:am|will) (?:going to )?(?:walk|swim|drive|jump) (?:[a-z]+ ){0,5}?"
                  + "(?:and (?:not|never) come back|off (?:the|a) (?:bridge|roof|building|cliff))"
                  + "|\\bi (?:have been|keep|am|started|have started) (?:cutting|burning|hitting"
                  + "|scratching|starving|purging|hurting) (?:myself|my (?:arms|legs|wrists|thighs"
                  + "|head|skin|stomach))\\b"
                  + "|\\bi (?:have )?(?:saved|been saving|stockpiled|been stockpiling|hoarded"
                  + "|collected|been collecting) (?:up )?(?:enough |all my |my )?(?:pills|sleeping"
                  + " pills|meds|medication|painkillers)\\b"));

  private SelfHarmPatterns() {}

  /**
   * The sentences of {@code text} that match a rule, in order, each with the first rule it matches;
   * at most {@link #MAX_MATCHES}.
   */
  public static List<RuleMatch> find(String text) {
    return findIn(RuleSentence.of(text));
  }

  /** {@link #find(String)} on sentences already split and normalized. */
  public static List<RuleMatch> findIn(List<RuleSentence> sentences) {
    return RULES.find(sentences, true, MAX_MATCHES);
  }

  /** {@link #find(String)} with or without the cue: the tests check that both agree. */
  static List<RuleMatch> find(String text, boolean useCue) {
    return RULES.find(RuleSentence.of(text), useCue, MAX_MATCHES);
  }
}
