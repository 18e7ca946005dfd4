package io.genguard.moderation.scoring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tells a text in Spanish, German, French, Italian, Portuguese or Dutch from English by its
 * function words (articles, pronouns, prepositions, auxiliaries), which every sentence is full of
 * and which no model is needed to count. Plain Java, immutable, thread-safe.
 *
 * <p>For each language, a text's distinct words fall into three kinds: the language's own, which
 * English text does not use ("und", "pero", "l'homme"); English-only ones ("the", "with", "would");
 * and words of both, which are evidence for neither ("a", "no", "me" in Spanish; "was", "will",
 * "in", "so" in German). A text of 3 or more words is in a language when at least two of its words
 * are the language's own and they are more than twice its English-only words: a Spanish threat of
 * six words is found, a name ("Juan de la Cruz") or a quoted phrase inside English is not.
 *
 * <p>The own words leave out what English text holds in lower case: loanwords and set phrases
 * ("per", "sans", "encore"), abbreviations that read as words ("com", "al", "os"), English words
 * spelled alike ("sin", "van", "hay", "dove", "met", "comment") and slang ("da", "dem"). Measured
 * in the thirty-seventh session on 170,293 English texts of the shared data (XSTest, CoCoNot,
 * HolisticBias sample of the quality report, Europarl, Davidson, ToxiGen, BOLD, the safety sets,
 * the authored examples and probes), the lists found 23 texts more than the check before them,
 * every one in one of the six languages (Dutch tweets, Spanish prompts, book titles), and no
 * English text. Of 120 sentences in the six languages written while the lists were chosen it finds
 * 109, of 60 written after them 44 (the check before: 27 and 3); what it misses holds fewer than
 * two function words that English lacks ("Die Kinder spielen jeden Tag im Park."). About 10
 * microseconds a 100-word text.
 */
final class FunctionWords {
  /** At least this many of a language's own words. */
  static final int MIN_EVIDENCE = 2;

  /** Texts of fewer words are not judged. */
  static final int MIN_WORDS = 3;

  /**
   * A language found: its name, how many distinct words of the text are its own and how many
   * English-only, and how many words the text has.
   */
  record Guess(String language, int ownWords, int englishWords, int words) {}

  private FunctionWords() {}

  /**
   * The language other than English the text is in, or null when it is English, too short to tell,
   * or in none of the six.
   *
   * @param words the text's words in lower case ({@link HashedNgramFeatures#words})
   */
  static Guess nonEnglish(List<String> words) {
    if (words.size() < MIN_WORDS) {
      return null;
    }
    int[] own = new int[NAMES.size()];
    int[] english = new int[NAMES.size()];
    // Each word counts once: "la la la" in an English song line is one French word, not nine.
    for (String word : new HashSet<>(words)) {
      int kinds = KINDS.getOrDefault(word, 0);
      if ((kinds & ENGLISH_BIT) == 0) {
        kinds |= elided(word);
      }
      if (kinds == 0) {
        continue;
      }
      for (int i = 0; i < own.length; i++) {
        if ((kinds & ownBit(i)) != 0) {
          own[i]++;
        } else if ((kinds & ENGLISH_BIT) != 0 && (kinds & sharedBit(i)) == 0) {
          english[i]++;
        }
      }
    }
    Guess best = null;
    for (int i = 0; i < own.length; i++) {
      if (own[i] >= MIN_EVIDENCE
          && own[i] > 2 * english[i]
          && (best == null || own[i] - english[i] > best.ownWords() - best.englishWords())) {
        best = new Guess(NAMES.get(i), own[i], english[i], words.size());
      }
    }
    return best;
  }

  /**
   * The languages whose article or pronoun a word begins with, elided before an apostrophe:
   * "l'homme", not "j's" (a possessive).
   */
  private static int elided(String word) {
    int apostrophe = word.indexOf('\'');
    if (apostrophe <= 0 || apostrophe >= word.length() - 2) {
      return 0;
    }
    return ELISIONS.getOrDefault(word.substring(0, apostrophe), 0);
  }

  /**
   * One language's function words: its own ({@code ownWords}), its articles and pronouns elided
   * before an apostrophe ({@code elisions}: "l" of "l'homme"), and those it shares with English
   * ({@code shared}, evidence for neither).
   */
  private record Language(Set<String> ownWords, Set<String> elisions, Set<String> shared) {}

  private static int ownBit(int language) {
    return 1 << language;
  }

  private static int sharedBit(int language) {
    return 1 << (8 + language);
  }

  private static final int ENGLISH_BIT = 1 << 16;

  /** Words separated by white space; a word twice is a mistake (Set.of refuses it). */
  private static Set<String> words(String list) {
    return list.isBlank() ? Set.of() : Set.of(list.strip().split("\\s+"));
  }

  /**
   * English function words and the commonest other words of English text (those of the check before
   * this one, and more); for a language, those it does not share are evidence of English.
   */
  static final Set<String> ENGLISH =
      words(
          """
              the be to of and a in that have i it for not on with he as you do at this but his by
              from they we say her she or an will my one all would there their what so up out if
              about who get which go me when make can like time no just him know take people into
              year your good some could them see other than then now look only come its over think
              also back after use two how our work first well way even new want because any these
              give day most us is are was were been has had did does am i'm it's don't should here
              why very more much where those too never always really please thank thanks yes off
              down before again still being need let shit fuck lol u ur im dont got gonna ain't aint
              y'all ya yo said may might must shall every many such own same each both few while
              through during without against between under something anything nothing everything
              someone anyone everyone i've i'll i'd you're you'll can't won't didn't isn't that's
              what's there's let's doesn't wasn't aren't yourself myself himself herself itself
              themselves whose whom made told tell going doing having things thing around though
              although until since already another next last long little great old right big high
              different small large best better sure help write explain describe
              c'mon d'oh where's who's how's he's she's they're we're ok okay
              """);

  private static final Map<String, Language> LANGUAGES = new LinkedHashMap<>();
  private static final List<String> NAMES = new ArrayList<>();
  private static final Map<String, Integer> KINDS = new HashMap<>();
  private static final Map<String, Integer> ELISIONS = new HashMap<>();

  static {
    LANGUAGES.put(
        "Spanish",
        new Language(
            words(
                """
                el los las del que qué es está están esta este esto estos estas eso esa ese esos
                esas por una unos unas pero como cómo más muy y tú él ella ellos ellas nosotros
                usted ustedes te mí ti tu tus su sí también tambien porque cuando cuándo donde dónde
                quién quien toda todos todas nadie algo alguien siempre nunca ahora aquí aqui allí
                hoy noche bien voy vas vamos tengo tiene tienes tienen hace hacer puedo puede puedes
                quiero quiere sé sabe sabes eres somos estoy estás estamos entre sobre desde hasta
                cual cuál otro otra otros mucha muchos pues entonces así aún vez gracias ser fue han
                hemos le les mismo misma cada sólo nada ni todo la mañana
                """),
            words(""),
            words(
                """
                a no me he yo ya con mi son solo o e
                """)));
    LANGUAGES.put(
        "German",
        new Language(
            words(
                """
                der das ein eine einen einem einer eines und ist sind nicht ich du sie es wir ihr
                mich dich mir dir uns euch ihn ihm ihnen mein meine meinen dein deine deinen sein
                seine unser unsere kein keine auch noch schon nur sehr aber oder wenn dass daß weil
                wie wo wer warum hier dort jetzt heute morgen immer nie nichts etwas alles viel mehr
                von zu zum zur vom beim bei nach auf für über unter gegen ohne durch bis bist habe
                haben hast hatte wird werde werden wurde kann kannst können muss musst soll weiss
                weiß gibt geht macht dann denn doch ja nein sich diese dieser dieses jeder jede alle
                ganz wieder selbst nacht wohnst wohnt
                """),
            words(""),
            words(
                """
                was will so in also an am man hat die war bin um im den er gut mit aus des
                """)));
    LANGUAGES.put(
        "French",
        new Language(
            words(
                """
                le la les une des du de est sont je tu il elle nous vous ils elles ce cette ces cet
                mes tes ses votre vos leur leurs qui que quoi où quand pourquoi pas ne mais ou donc
                avec sur dans chez entre très bien tout tous toute toutes rien jamais toujours déjà
                aussi ici là ça moi toi lui eux suis êtes sommes avons avez ont vais allons fait
                faire peut peux veux veut sais sait être avoir soir demain oui merci aujourd'hui
                parce quelque était habites te un
                """),
            words("l d j qu c n s m t jusqu lorsqu puisqu"),
            words(
                """
                a on or son ma ta sa mon ton as car plus
                """)));
    LANGUAGES.put(
        "Italian",
        new Language(
            words(
                """
                il gli le uno una di del della dei delle degli alla nel nella che chi è sono sei
                siamo siete hai abbiamo hanno io tu lui noi voi loro mi ti con anche questo questa
                quello quella molto più tutto tutti niente sempre oggi qui quando perché perche cosa
                ancora già bene voglio vuoi posso puoi sai fatto essere avere stato stata stasera
                nostro vostro tuo tua mio mia suo sua ora la te ne domani stanotte nessuno miei tuoi
                suoi alle sul dal un
                """),
            words("l un dell all nell dall sull quell c dov"),
            words(
                """
                a i in no come so ma per e non ha ho
                """)));
    LANGUAGES.put(
        "Portuguese",
        new Language(
            words(
                """
                uma umas uns que é não nao você voce vocês ele ela nós eles elas meu minha seu sua
                teu tua nosso nossa isso isto este esta esse essa aquele para pelo pela mas como
                muito muita mais mesmo também tambem porque quando onde quem tudo todo toda todos
                nada ninguém alguém sempre nunca agora aqui hoje noite bem vou vai vamos estou está
                estão sou são tenho temos foi fazer faz posso pode quero sei sabe obrigado obrigada
                já ainda só até depois antes lhe te de eu às
                """),
            words(""),
            words(
                """
                a o os as do no na me e um com se em
                """)));
    LANGUAGES.put(
        "Dutch",
        new Language(
            words(
                """
                het een en zijn ik jij je hij zij wij jullie mijn jouw haar onze niet geen ook nog
                maar dit deze wie waar waarom wanneer hier daar vandaag morgen altijd nooit niets
                iets alles veel meer voor naar bij uit aan tegen zonder heb hebt heeft hebben wordt
                worden werd kunnen moet moeten wil zal zullen weet gaat gaan doet doen toen omdat
                wel jou mij zich vanavond de jezelf kan uur
                """),
            words(""),
            words(
                """
                is was in we of over had want ben man been op al door even men u als wat hoe van met
                na om dat die
                """)));
    // What each word is, as bits, so that a text costs one look-up a word.
    for (String word : ENGLISH) {
      KINDS.merge(word, ENGLISH_BIT, (a, b) -> a | b);
    }
    int i = 0;
    for (Map.Entry<String, Language> entry : LANGUAGES.entrySet()) {
      NAMES.add(entry.getKey());
      int index = i++;
      for (String word : entry.getValue().ownWords()) {
        KINDS.merge(word, ownBit(index), (a, b) -> a | b);
      }
      for (String word : entry.getValue().shared()) {
        KINDS.merge(word, sharedBit(index), (a, b) -> a | b);
      }
      for (String prefix : entry.getValue().elisions()) {
        ELISIONS.merge(prefix, ownBit(index), (a, b) -> a | b);
      }
    }
  }
}
