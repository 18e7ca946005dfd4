package io.genguard.moderation.scoring;

import io.genguard.moderation.scoring.PatternRules.Rule;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds explicit threats of violence by their shape: someone who announces that they will do
 * violence ("I'm coming to the warehouse to shoot the manager"), harm announced to the reader or a
 * named person ("you're gonna get stabbed"), and the set phrases of threats ("they'll need dental
 * records", "a bottle to the head"). The learned heads release about half of the threats written to
 * probe them (QUALITY.md, "Threats of violence"): a calm threat has no insult or slur for a model
 * trained mostly on abuse to find. A rule states its evidence: every match names its rule and the
 * words that matched, so a reviewer sees why a text was held.
 *
 * <p>It is not a probability and does not pretend to be one: policy maps a match to a decision
 * ({@code threats.decision}, REVIEW by default). Since 1.2.0 it knows three veiled forms too: the
 * shame if something happened to the target or its things, knowing where the target lives or
 * sleeps, a lesson taught with a weapon. What it does not find: other veiled threats without
 * violent words ("Accidents are quick.", "Mornings can be dangerous."), and other languages. Quoted
 * speech and fiction match too ("\"I'll kill you,\" the hero shouts in the trailer."); REVIEW lets
 * a person decide.
 *
 * <p>Stateless and thread-safe; plain Java, so the stream job, the batch command and the quality
 * report share it.
 */
public final class ThreatPatterns {
  /**
   * Version recorded in every verdict; change it whenever a pattern or how sentences are read
   * changes (1.2.2: a sentence over 600 characters is read in windows, {@link RuleSentence}; 1.2.3:
   * invisible characters and look-alike letters inside words are read away, {@link Obfuscation}).
   */
  public static final String VERSION = "1.2.3";

  /** Name of this component in verdicts' version maps. */
  public static final String NAME = "threat-patterns";

  /**
   * Matches kept per text: enough to hold it and show why, while a hostile text of thousands of
   * threatening sentences cannot blow up a verdict or a batch output line.
   */
  public static final int MAX_MATCHES = 20;

  private static final String PERSON_NOUN =
      "(?:person|people|man|men|woman|women|guy|guys|girl|girls|boy|boys|kid|kids|child|children"
          + "|baby|family|families|wife|husband|son|sons|daughter|daughters|mother|mom|mum|father"
          + "|dad|brother|sister|parents|grandma|grandpa|girlfriend|boyfriend|ex|partner|friend"
          + "|friends|neighbour|neighbours|neighbor|neighbors|landlord|tenant|boss|manager|teacher"
          + "|teachers|principal|student|students|class|classmates|coworker|coworkers|colleague"
          + "|colleagues|cop|cops|police|officer|officers|judge|jurors|jury|witness|witnesses"
          + "|senator|mayor|councilman|councilwoman|president|governor|politician|minister|official"
          + "|officials|inspector|nurse|doctor|doctors|ref|referee|umpire|coach|player|players"
          + "|striker|goalkeeper|fan|fans|customer|customers|driver|cyclist|reporter|reporters"
          + "|journalist|journalists|protesters|organizers|crowd|congregation|worshippers|staff"
          + "|employees|workers|everyone|everybody|anyone|anybody|dog|dogs|cat|cats|horse|pet|pets"
          + "|bitch|bitches|bastard|idiot|loser|snitch|traitor|rat|pig|pigs|fucker|asshole|whore"
          + "|slut|cunt|cunts|hoe|hoes)\\b";
  // Who receives it: the reader, a third person, or a named person or animal.
  private static final String TARGET =
      "(?:you|your|yourself|yourselves|him|her|them|his|their|everyone|everybody|anyone|anybody"
          + "|each of you|all of you|every one of you"
          + "|(?:the|that|this|those|these|his|her|their|your|my|every|any|a|an|some)"
          + " (?:[a-z]+ ){0,2}?"
          + PERSON_NOUN
          + ")\\b";
  private static final String BODY_PART =
      "(?:neck|jaw|skull|face|head|teeth|tooth|knees|kneecaps|legs|leg|arms|arm|hands|hand"
          + "|fingers|finger|ribs|nose|bones|bone|back|spine|throat|hair|eyes|eye|brains|heart"
          + "|chest|windows|windshield|car|tires|tyres)\\b";
  // Violence done to a living target (or their home or car), in the words that make a verb
  // violent: "break" needs a body part, "beat" a person not followed by "at chess".
  private static final String HARM_ACT =
      "(?:(?:kill|murder|shoot|stab|strangle|choke|hurt|injure|maim|slaughter|butcher|torture"
          + "|rape|lynch|poison|drown|bury|punch|stomp|slap|smack|suffocate|shank|behead|decapitate"
          + "|cripple|gas|torch|kidnap|abduct|pistol whip|curb stomp|jump|whoop|whup|pummel|maul"
          + "|thrash|skewer|impale|dismember|mutilate|massacre)[a-z]{0,4} (?:[a-z]+ ){0,2}?"
          + TARGET
          + "|(?:gun|mow)(?:ning)? (?:you|him|her|them) down|(?:gun|mow)(?:ning)? down "
          + TARGET
          + "|(?:kick|beat|whoop|whup|bust)(?:ing)? (?:your|his|her|their) ass\\b"
          + "(?!(?: so| so bad| badly)? (?:at|in)\\b)"
          + "|(?:blow|knock|kick|bash|smash|cave|rip|tear|beat|punch|slap|cut|gouge|pull)"
          + "(?:ing|ping|ting)? (?:your|his|her|their) (?:[a-z]+ )?"
          + BODY_PART
          + " (?:off|out|in)\\b"
          + "|(?:beat|beating) (?:up )?"
          + TARGET
          + "(?!(?: so| so bad| badly| easily)? (?:at|in|to the|by|on)\\b)"
          + "|(?:beat|knock|kick|choke|punch|squeeze|smack|slap) (?:the|all the) (?:crap|hell|shit"
          + "|life|living daylights|fuck) out of "
          + TARGET
          + "|(?:cut|slash|slit)(?:ting)? (?:up )?(?:you|him|her|them)\\b(?! (?:a|an|some|slack|off|in"
          + "|loose|out|short)\\b)"
          + "|(?:cut|slash|slit|carve)(?:ting)? (?:up )?(?:your|his|her|their|that) (?:[a-z]+ )?"
          + "(?:face|throat|tires|tyres|neck|wrists|brakes)"
          + "|(?:break|breaking|smash|smashing|bash|bashing|crack|cracking|snap|snapping|cave in"
          + "|kick in|kicking in|knock out|knock|knocking|rip out|rip off|blow off|blow out|blowing"
          + "|put a bullet in|put a bullet through|shoot|stab) (?:every |both |all |some )?"
          + "(?:of )?(?:your|his|her|their|the|some|every) (?:[a-z]+ )?"
          + BODY_PART
          + "|(?:break|breaking|knock|knocking) every (?:bone|tooth) (?:in|out of) (?:your|his|her)"
          + "|put(?:ting)? (?:you|him|her|them|your [a-z]+|his [a-z]+|her [a-z]+)(?: both| all)?"
          + " (?:in|into|through"
          + "|six feet) (?:the |a |an |that |this )?(?:ground|grave|hospital|ambulance|morgue|coffin"
          + "|wheelchair|window|wall|table|floor|door|under|body bag)"
          + "|(?:set|setting) (?:[a-z]+ ){0,3}?on fire"
          + "|burn[a-z]{0,3} (?:[a-z]+ ){0,4}?(?:down )?with (?:you|your [a-z]+|him|her|them"
          + "|everyone|everybody|people)(?: [a-z]+)? (?:in|inside)"
          + "|burn (?:you|him|her|them)\\b"
          + "|(?:gas|torch|bomb|blow up|shoot up|burn down|burn) (?:the |this |that |your |his |her"
          + " |their )?(?:whole |entire )?(?:[a-z]+ )?(?:building|block|school|church|mosque"
          + "|synagogue|office|clinic|house|home|shop|store|apartment|bar|club)\\b"
          // Not "I'll run you over to the airport".
          + "|run (?:you|him|her|them|that [a-z]+|the [a-z]+) (?:off the road|over"
          + "(?! (?:to|for|there|here|at|in)\\b))"
          + "|throw acid|tie (?:you|him|her|them) to|drag (?:you|him|her|them) out of"
          + "|(?:make|making) (?:sure )?(?:you|him|her|them|all of you|every one of you)"
          + " (?:bleed|die|suffer|never walk)"
          + "|end (?:you|your life|his life|her life)\\b"
          + "|(?:hunt|track) (?:you|him|her|them|every one of you|each of you) down)";
  // The words HARM_ACT cannot do without: a sentence with none of them cannot match it.
  private static final String HARM_CUE =
      "kill* murder* shoot* stab* strangl* chok* hurt* injur* maim* slaughter* butcher* tortur*"
          + " rape* lynch* poison* drown* bury* buried punch* stomp* slap* smack* suffocat* shank*"
          + " behead* decapitat* crippl* torch* kidnap* abduct* pistol* curb* jump* beat* knock*"
          + " kick* squeez* cut cuts cutting slash* slit* carv* break* smash* bash* crack* snap*"
          + " cav* rip* blow* bullet* ground grave* hospital* ambulance* morgue* coffin* wheelchair*"
          + " window* wall* table* floor* door* under fire burn* gas bomb* run acid tie drag* bleed*"
          + " die suffer* walk end hunt* track* whoop* whup* pummel* maul* thrash* skewer* impal*"
          + " dismember* mutilat* massacr* gun gunning mow* ass bag tear* gouge* pull*";

  // Announcing, planning or promising to act.
  private static final String INTENT =
      "(?:will|shall|am going to|are going to|is going to|going to|about to|want to|plan to"
          + "|am coming to|are coming to|coming to|am coming back to|swear (?:to god )?(?:i|we) will"
          + "|would love to|can not wait to|am gonna)";
  // Who announces the harm: the writer, the writer's side, or an unnamed someone.
  private static final String AGENT =
      "(?:i|we|my (?:guys|boys|friends|brothers|cousins|crew|people)|someone|somebody|they)";
  // At most seven words between the announcement and the harm, none of them a negation ("I will
  // never let anyone hurt you") or the start of another clause ("I will ... so we do not have to
  // worry about hurting you").
  private static final String GAP =
      "(?:(?!(?:not|never|no|nobody|noone|without|if|when|because|but|who|which|we|they|he|she"
          + "|i|about|worry|afraid|let|protect|stop|prevent|help|save|anyone|someone)\\b)"
          + "[a-z0-9]+ ){0,7}?";
  private static final String SHORT_GAP = "(?:(?!not |never |no )[a-z0-9]+ ){0,3}?";
  private static final String WEAPON =
      "(?:knife|knives|bat|pipe|crowbar|hammer|axe|machete|gun|guns|pistol|rifle|shotgun|blade"
          + "|brass knuckles)";
  private static final String FIREARM =
      "(?:gun|guns|pistol|rifle|rifles|shotgun|ammo|ammunition|bullets|a bomb|bombs|explosives"
          + "|an ar|a glock|machete|acid)";
  private static final String CROWDED_PLACE =
      "(?:school|class|classroom|church|mosque|synagogue|temple|office|work|rally|concert|clinic"
          + "|hospital|mall|protest|parade|campus|meeting|party|you|your)";

  private static final PatternRules RULES =
      new PatternRules(
          // "I'm coming to the warehouse to shoot the manager", "we'll break both your hands".
          new Rule(
              "announced-violence",
              HARM_CUE,
              "(?:\\b"
                  + AGENT
                  + " "
                  + SHORT_GAP
                  + INTENT
                  + "|\\b(?:i|we) (?:am|are)(?= [a-z]+ing )|^(?:am |are )?(?:going to|about to))"
                  + " "
                  + GAP
                  + HARM_ACT),
          // "Go make her bleed", "I'll pay whoever cripples that goalkeeper".
          new Rule(
              "incitement",
              HARM_CUE,
              "(?:^go|\\bgo and|\\blet us|\\blets|\\bsomeone should|\\bsomebody should"
                  + "|\\bsomeone ought to|\\bsomebody ought to|\\bsomeone has to|\\bsomebody has to"
                  + "|\\bsomeone needs to|\\bsomebody needs to|\\bpay whoever|\\bpay anyone who"
                  + "|\\bpay someone to) (?:[a-z]+ ){0,3}?"
                  + HARM_ACT),
          // "ur gonna get stabbed", "the landlord is going to get his teeth kicked in".
          new Rule(
              "violence-announced-to-target",
              "shot stabbed killed murdered knifed strangled jumped beaten buried lynched kicked cracked broken carried picking",
              "\\b(?:you|he|she|they|"
                  + TARGET
                  + ") (?:[a-z]+ ){0,6}?(?:will|is going to|are going to|going to|is getting|are getting"
                  + "|is about to|are about to)(?: [a-z]+){0,2}? (?:get |be |end up )?"
                  + "(?:the one |the first |really |badly |seriously |brutally |fucking )?"
                  + "(?:[a-z]+ and )?"
                  + "(?:shot|stabbed|killed|murdered|knifed|strangled|jumped|beaten up"
                  + "|beaten to death|buried alive|lynched|his teeth kicked in|her teeth kicked in"
                  + "|your teeth kicked in|teeth kicked in|head kicked in|skull cracked|knees broken"
                  + "|legs broken|carried out|picking your teeth|buried next to)\\b"),
          // "touch my bike again and u die", "drop the complaint or your wife gets hurt".
          new Rule(
              "conditional-harm",
              "die dies hurt dead buried shot stabbed pays pay",
              "\\b(?:and|or|if|unless|else)\\b(?: [a-z]+){0,6}? (?:you|he|she|they|your [a-z]+"
                  + "|his [a-z]+|her [a-z]+) (?:will )?(?:die|dies|gets hurt|get hurt|is dead|are dead|get buried"
                  + "|gets buried|get shot|gets shot|get stabbed|gets stabbed|pays for it"
                  + "|pay for it|pay in blood)\\b"),
          // "you won't make it to the parking lot alive", "you won't survive the weekend".
          new Rule(
              "survival-denied",
              "alive surviv* see walk",
              "\\b(?:you|he|she|they)(?: and (?:[a-z]+ ){1,3}?)? (?:will not|are not going to"
                  + "|is not going to|not going to|will never|never) (?:make it|get|walk|leave"
                  + "|survive|live)(?: [a-z]+){0,6}? alive\\b"
                  + "|\\b(?:you|he|she|they)(?: and (?:[a-z]+ ){1,3}?)? (?:will not|are not going to"
                  + "|is not going to) (?:survive|live to see|see) (?:the|this|next|another|tomorrow)"
                  + "|\\bnever walk again\\b"),
          // "you're a dead man", "ur dead tmrw".
          new Rule(
              "death-announced",
              "dead die",
              "\\b(?:you are|you will be|you re) (?:a )?(?:dead man|dead woman|dead meat"
                  + "|as good as dead|dead)\\b(?! (?:to|tired|wrong|right|on|set|serious|last"
                  + "|inside|broke|center|centre|ahead|end|sexy|cute|funny)\\b)"
                  // "you're going to die tonight", not "you're going to die laughing".
                  + "|\\b(?:you|your) (?:are going to|re going to|going to|will) die\\b(?! (?:laughing"
                  + "|of|from|happy|old|young|alone|eventually|someday|one day|a|an|doing|trying"
                  + "|without|in your sleep|when|if|before|unless)\\b)"),
          // The set phrases of threats.
          new Rule(
              "threat-idiom",
              "dental ditch bag grave casket coffin hearse six shovel face scrap* pull* fish* widow* orphan* born met safe eye stitches accident* ambulance wheelchair stretcher river lake morgue dumpster trunk canal harbo* bay bullet brick bottle bat knife blade hammer pipe round shell slug shooting stabbing killing shotgun gun rifle beat knock kick choke squeeze",
              "\\b(?:need dental records|dental records to identify"
                  + "|(?:in|into) a (?:ditch|body bag|shallow grave|coffin|casket|hearse)"
                  + "|six feet under|need a shovel to find|need a new face"
                  + "|(?:scraping|scrape|pulling|pull|fishing|fish) (?:you|him|her|them) (?:off|out of)"
                  + "|will be (?:a widow|a widower|an orphan|orphans|widows)"
                  + "|wish (?:you|he|she|they) (?:had|would) never (?:been born|met me)"
                  + "|(?:family|kids|children|wife|husband|son|daughter|mother|father|parents)"
                  + " (?:is|are) not safe"
                  // Told to the reader: not "new parents learn to sleep with one eye open".
                  + "|(?:you|you should|you had better|you would better|you better|better)"
                  + " sleep with one eye open|snitches get stitches"
                  + "|(?:feeding|sleeping with|swimming with) the (?:fish|fishes)"
                  + "|(?:your|he|she|his|her|you) (?:[a-z]+ )?(?:is going to|will|might|could)"
                  + " (?:have|has) (?:a|an) (?:[a-z]+ ){0,2}?accident"
                  + "|(?:leave|leaves|leaving|go home|going home|end up|ends up) (?:[a-z]+ ){0,3}?"
                  + "(?:in|on) (?:an ambulance|a body bag|a hearse|a wheelchair|a coffin|a stretcher)"
                  + "|(?:you|he|she|they)(?: [a-z]+){0,4}? (?:end up|ends up|wind up|winds up|be found"
                  + "|turn up|turns up) (?:in|at the bottom of) (?:the|a) (?:river|lake|ditch|morgue"
                  + "|dumpster|trunk|canal|harbor|harbour|bay)"
                  + "|(?:a|the) (?:bullet|brick|bottle|bat|knife|blade|hammer|pipe)"
                  + " (?:to|through|in|into|across) (?:the|your|his|her|their) (?:head|skull|face"
                  + "|chest|throat|heart|brain|back|neck)"
                  + "|(?:catch(?:es|ing)?|eat(?:s|ing)?|tak(?:e|es|ing)) a bullet|a bullet will"
                  + "|(?:bullet|bat|knife|blade|round|shell|slug)(?: [a-z]+){0,5} with your name on it"
                  + "|before (?:i|we) start (?:shooting|stabbing|killing)"
                  + "|what a (?:shotgun|gun|rifle|bullet|knife) (?:sounds|feels) like"
                  + "|(?:beat|knock|kick|choke|squeeze) the (?:life|living daylights|crap|shit|hell)"
                  + " out of (?:you|him|her|them)\\b)"),
          // "I'll be waiting at your car with a bat", "holding the knife behind you".
          new Rule(
              "armed-approach",
              "knife knives bat pipe crowbar hammer axe machete gun guns pistol rifle shotgun blade brass",
              "\\b(?:wait|waiting|be waiting|show up|come back|coming back|be there|hiding|visit"
                  + "|come over|come to|be standing|standing) (?:[a-z]+ ){0,6}?(?:with|holding)"
                  + " (?:[a-z]+ ){0,3}?(?:a|an|my|the|some) (?:[a-z]+ )?"
                  + WEAPON
                  + "\\b|holding (?:a|the) (?:knife|gun|blade|pistol) behind (?:you|him|her)\\b"),
          // "Tomorrow I'm bringing my dad's pistol to school", "I'll come back with a rifle".
          new Rule(
              "armed-intent",
              "gun guns pistol rifle* shotgun ammo ammunition bullets bomb bombs explosives ar glock machete acid",
              "\\b(?:i|we) (?:[a-z]+ ){0,2}?(?:am bringing|are bringing|will bring|will come back"
                  + "|am coming back|will show up|bought the|bought a|got a|loaded the|loaded my)"
                  + " (?:[a-z]+ ){0,4}?"
                  + FIREARM
                  + "\\b(?:(?: [a-z]+){0,6}? "
                  + CROWDED_PLACE
                  + "\\b| and| to| so|$)"),
          // The veiled forms that name no violence: "it would be a shame if something happened to
          // your kids", "we know where he sleeps", "teach that judge a lesson with a tire iron".
          // A shame needs the target's own thing ("if it caught fire", "if your car stopped
          // working"), not a hazard in general ("if the kitchen caught fire").
          new Rule(
              "veiled-threat",
              "shame pity sad tragic terrible know lesson",
              "(?:^|\\b(?:would|will|could|it would|it will|that would|that will) )be (?:a )?"
                  + "(?:real |terrible |awful |crying |damn |such a |very )?(?:shame|pity|sad|tragic"
                  + "|terrible) if (?:(?:something|anything|it|they|you) |your (?:[a-z]+ ){0,2}?"
                  + "|his (?:[a-z]+ ){0,2}?|her (?:[a-z]+ ){0,2}?|their (?:[a-z]+ ){0,2}?)"
                  + "(?:bad )?(?:were to )?(?:happened to|happens to|happen to|caught fire|catches fire"
                  + "|burned down|burnt down|burns down|went up in flames|got hurt|gets hurt|had an"
                  + " accident|has an accident|went missing|goes missing|disappeared|disappears"
                  + "|stopped working|stop working|stops working|stopped eating|got broken|got"
                  + " smashed)\\b"
                  + "|\\b(?:i|we) (?:already )?know (?:exactly )?where (?:you|he|she|they|your"
                  + " (?:[a-z]+ )?(?:kids|kid|children|child|son|daughter|wife|husband|family|mother"
                  + "|mom|father|dad|parents|sister|brother|girlfriend|boyfriend))"
                  + " (?:live|lives|sleep|sleeps|work|works|park|parks|wait|waits|jog|jogs|walk"
                  + "|walks|go to school|goes to school|hang out|hangs out|stay|stays)\\b"
                  // Not "I know where you live, so I'll drop the spare keys off tonight."
                  + "(?! so (?:i|we) (?:will|can|could|would)\\b)"
                  + "|\\bteach (?:[a-z]+ ){1,3}?a lesson (?:with|using) (?:a|an|my|the|some)"
                  + " (?:[a-z]+ )?(?:"
                  + WEAPON
                  + "|tire iron|tyre iron|baseball bat|brick|chain|golf club)\\b"),
          // "I'm driving my truck straight into the crowd".
          new Rule(
              "vehicle-attack",
              "drive driving ram ramming plow* plough*",
              "\\b(?:drive|driving|ram|ramming|plow|plowing|plough|ploughing) (?:[a-z]+ ){0,4}?"
                  + "(?:into|through) (?:the |a |that |those )?(?:crowd|protesters|protestors"
                  + "|people|pedestrians|parade|march|them|kids|students)\\b"));

  // Chat spellings and contractions written without the apostrophe.
  private static final Map<String, String> SPELLINGS =
      Map.ofEntries(
          Map.entry("im", "i am"),
          Map.entry("imma", "i am going to"),
          Map.entry("ima", "i am going to"),
          Map.entry("ill", "i will"),
          Map.entry("youll", "you will"),
          Map.entry("theyll", "they will"),
          Map.entry("youre", "you are"),
          Map.entry("wont", "will not"),
          Map.entry("cant", "can not"),
          Map.entry("cannot", "can not"),
          Map.entry("dont", "do not"),
          Map.entry("doesnt", "does not"),
          Map.entry("didnt", "did not"),
          Map.entry("isnt", "is not"),
          Map.entry("arent", "are not"),
          Map.entry("aint", "is not"),
          Map.entry("gonna", "going to"),
          Map.entry("gon", "going to"),
          Map.entry("finna", "going to"),
          Map.entry("wanna", "want to"),
          Map.entry("gotta", "got to"),
          Map.entry("u", "you"),
          Map.entry("ur", "your"),
          Map.entry("ya", "you"),
          Map.entry("cuz", "because"),
          Map.entry("cause", "because"));
  // The stem of "won't", "can't" and "ain't" before " not".
  private static final Map<String, String> NOT_STEMS =
      Map.of("wo", "will", "ca", "can", "ai", "is", "sha", "shall");
  // Words whose "'s" is "is" ("he's"); on any other word it marks the possessive, and goes.
  private static final Set<String> IS_CONTRACTED =
      Set.of(
          "it",
          "he",
          "she",
          "that",
          "there",
          "someone",
          "somebody",
          "who",
          "what",
          "everyone",
          "nobody",
          "here",
          "where",
          "this");
  private static final int MAX_SPELLING_LENGTH =
      SPELLINGS.keySet().stream().mapToInt(String::length).max().orElse(0);
  // Per length, a bit per letter a-z that some spelling of that length starts with: a word no
  // spelling could be is appended as it is, without a substring and a map lookup (most words).
  private static final int[] SPELLING_FIRST_LETTERS = firstLetters(SPELLINGS.keySet());

  private ThreatPatterns() {}

  /**
   * The sentences of {@code text} that match a rule, in order, each with the first rule it matches;
   * at most {@link #MAX_MATCHES}.
   */
  public static List<RuleMatch> find(String text) {
    return find(RuleSentence.of(text), true);
  }

  /** {@link #find(String)} on sentences already split and normalized. */
  public static List<RuleMatch> findIn(List<RuleSentence> sentences) {
    return find(sentences, true);
  }

  /** {@link #find(String)} with or without the cue: the tests check that both agree. */
  static List<RuleMatch> find(String text, boolean useCue) {
    return find(RuleSentence.of(text), useCue);
  }

  private static List<RuleMatch> find(List<RuleSentence> sentences, boolean useCue) {
    return RULES.find(sentences, useCue, MAX_MATCHES);
  }

  /** Lower case, contractions and chat spellings expanded, punctuation gone, single spaces. */
  static String normalize(String sentence) {
    // TextNormalizer lower-cases; one pass over its output, so that the common sentence (no
    // contraction, no chat spelling) costs no allocation per word.
    return words(TextNormalizer.normalize(sentence));
  }

  /**
   * The word pass of {@link #normalize} over {@code s}, already lower case: its words (runs of a-z,
   * 0-9 and apostrophes), apostrophes at their ends dropped, contractions and chat spellings
   * expanded, joined by single spaces. Whitespace and other characters between words only separate
   * them, so collapsing whitespace first changes nothing.
   */
  static String words(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    int start = -1;
    for (int i = 0; i <= s.length(); i++) {
      char c = i < s.length() ? s.charAt(i) : ' ';
      if (c == '\u2019' || c == '\u2018') {
        c = '\'';
      }
      boolean wordChar = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'';
      if (wordChar && start < 0) {
        start = i;
      } else if (!wordChar && start >= 0) {
        appendWord(out, s, start, i);
        start = -1;
      }
    }
    return out.toString();
  }

  private static void appendWord(StringBuilder out, String s, int start, int end) {
    while (start < end && isApostrophe(s.charAt(start))) {
      start++;
    }
    while (end > start && isApostrophe(s.charAt(end - 1))) {
      end--;
    }
    if (start == end) {
      return;
    }
    if (!out.isEmpty()) {
      out.append(' ');
    }
    boolean apostrophe = false;
    for (int i = start; i < end; i++) {
      apostrophe |= isApostrophe(s.charAt(i));
    }
    if (apostrophe || maySpell(s, start, end)) {
      out.append(expand(s.substring(start, end).replace('\u2019', '\'').replace('\u2018', '\'')));
    } else {
      out.append(s, start, end);
    }
  }

  /**
   * Whether {@code s} from {@code start} to {@code end} could be a key of {@link #SPELLINGS}: no
   * longer than the longest, and starting with a letter some key of its length starts with.
   */
  private static boolean maySpell(String s, int start, int end) {
    int length = end - start;
    if (length > MAX_SPELLING_LENGTH) {
      return false;
    }
    char first = s.charAt(start);
    return first >= 'a' && first <= 'z' && (SPELLING_FIRST_LETTERS[length] & letterBit(first)) != 0;
  }

  private static int[] firstLetters(Set<String> spellings) {
    int[] letters = new int[MAX_SPELLING_LENGTH + 1];
    for (String spelling : spellings) {
      char first = spelling.charAt(0);
      if (first < 'a' || first > 'z') {
        throw new IllegalStateException("a chat spelling must start with a-z: " + spelling);
      }
      letters[spelling.length()] |= letterBit(first);
    }
    return letters;
  }

  private static int letterBit(char letter) {
    return 1 << (letter - 'a');
  }

  /** The chat spellings the rules expand (for the tests). */
  static Set<String> spellings() {
    return SPELLINGS.keySet();
  }

  private static boolean isApostrophe(char c) {
    return c == '\'' || c == '\u2019' || c == '\u2018';
  }

  /** A word of a sentence as the rules read it: its chat spelling or contraction expanded. */
  static String expand(String word) {
    String spelled = SPELLINGS.get(word);
    if (spelled != null) {
      return spelled;
    }
    int apostrophe = word.indexOf('\'');
    if (apostrophe < 0) {
      return word;
    }
    if (word.endsWith("n't")) {
      String stem = word.substring(0, word.length() - 3);
      return NOT_STEMS.getOrDefault(stem, stem) + " not";
    }
    String stem = word.substring(0, apostrophe);
    return switch (word.substring(apostrophe)) {
      case "'m" -> stem + " am";
      case "'ma" -> stem + " am going to";
      case "'ll" -> stem + " will";
      case "'re" -> stem + " are";
      case "'ve" -> stem + " have";
      case "'d" -> stem + " would";
      case "'s" -> IS_CONTRACTED.contains(stem) ? stem + " is" : stem;
      default -> word.replace("'", "");
    };
  }
}
