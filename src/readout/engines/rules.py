# ruff: noqa: SIM905
"""`RulesEngine`: the offline, deterministic engine.

It reads a readout the way an annotator skims one: find who took part (titles, names, countries,
the issuer's own official), then walk the sentences, attribute each statement to its speaker
(subject of a reporting verb, a trailing "..., Wang said", a participle opener, pronoun and
paragraph carry-over, joint voice), split coordinated statements into clauses, and classify each
clause as a position, a request or an agreement from the verb and the content. Everything is
general linguistic patterns; no table here names a particular readout.
"""

from __future__ import annotations

import bisect
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

from ..grounding import clause_span
from ..lexicon import country_regex, foreign_country_regex, kind_of, lookup
from ..schema import Agreement, Event, Party, Position, ReadoutSummary, Request, Span
from ..segmentation import Document, Sentence
from .base import Engine, EngineOutput

__all__ = ["RulesEngine"]

JOINT = "*"  # marker: all participants

# --- verbs -----------------------------------------------------------------------------------
# kind: speech (content after "that"), stance (object is the content), agree, request, hope,
# commit (pledge/decision), discuss (no item), narr (the contact itself, no item), explain.
_IRREGULAR = {
    "say": ("says", "said"),
    "tell": ("tells", "told"),
    "hold": ("holds", "held"),
    "meet": ("meets", "met"),
    "speak": ("speaks", "spoke"),
    "reach": ("reaches", "reached"),
    "express": ("expresses", "expressed"),
    "stress": ("stresses", "stressed"),
    "wish": ("wishes", "wished"),
    "press": ("presses", "pressed"),
    "reiterate": ("reiterates", "reiterated"),
    "pay": ("pays", "paid"),
    "have": ("has", "had"),
    "see": ("sees", "saw"),
    "give": ("gives", "gave"),
    "make": ("makes", "made"),
    "take": ("takes", "took"),
    "sign": ("signs", "signed"),
    "commit": ("commits", "committed"),
    "regret": ("regrets", "regretted"),
    "underscore": ("underscores", "underscored"),
    "extend": ("extends", "extended"),
    "convey": ("conveys", "conveyed"),
    "voice": ("voices", "voiced"),
    "reply": ("replies", "replied"),
    "apply": ("applies", "applied"),
    "deny": ("denies", "denied"),
    "rely": ("relies", "relied"),
    "identify": ("identifies", "identified"),
    "share": ("shares", "shared"),
    "refer": ("refers", "referred"),
    "concur": ("concurs", "concurred"),
    "underline": ("underlines", "underlined"),
    "emphasize": ("emphasizes", "emphasized"),
    "emphasise": ("emphasises", "emphasised"),
    "recognize": ("recognizes", "recognized"),
    "recognise": ("recognises", "recognised"),
    "welcome": ("welcomes", "welcomed"),
    "agree": ("agrees", "agreed"),
    "praise": ("praises", "praised"),
    "hope": ("hopes", "hoped"),
    "value": ("values", "valued"),
    "note": ("notes", "noted"),
    "state": ("states", "stated"),
    "urge": ("urges", "urged"),
    "believe": ("believes", "believed"),
    "reaffirm": ("reaffirms", "reaffirmed"),
    "affirm": ("affirms", "affirmed"),
    "oppose": ("opposes", "opposed"),
    "pledge": ("pledges", "pledged"),
    "undertake": ("undertakes", "undertook"),
    "vow": ("vows", "vowed"),
    "promise": ("promises", "promised"),
    "decide": ("decides", "decided"),
    "resolve": ("resolves", "resolved"),
    "issue": ("issues", "issued"),
    "continue": ("continues", "continued"),
    "acknowledge": ("acknowledges", "acknowledged"),
    "appreciate": ("appreciates", "appreciated"),
    "propose": ("proposes", "proposed"),
    "encourage": ("encourages", "encouraged"),
    "invite": ("invites", "invited"),
    "receive": ("receives", "received"),
    "exchange": ("exchanges", "exchanged"),
    "congratulate": ("congratulates", "congratulated"),
    "deplore": ("deplores", "deplored"),
    "denounce": ("denounces", "denounced"),
    "condemn": ("condemns", "condemned"),
    "indicate": ("indicates", "indicated"),
    "assure": ("assures", "assured"),
    "observe": ("observes", "observed"),
    "describe": ("describes", "described"),
    "host": ("hosts", "hosted"),
    "visit": ("visits", "visited"),
    "telephone": ("telephones", "telephoned"),
    "phone": ("phones", "phoned"),
    "update": ("updates", "updated"),
    "brief": ("briefs", "briefed"),
    "review": ("reviews", "reviewed"),
    "discuss": ("discusses", "discussed"),
    "talk": ("talks", "talked"),
    "explore": ("explores", "explored"),
    "highlight": ("highlights", "highlighted"),
    "recall": ("recalls", "recalled"),
    "confirm": ("confirms", "confirmed"),
    "insist": ("insists", "insisted"),
    "warn": ("warns", "warned"),
    "demand": ("demands", "demanded"),
    "request": ("requests", "requested"),
    "ask": ("asks", "asked"),
    "appeal": ("appeals", "appealed"),
    "add": ("adds", "added"),
    "thank": ("thanks", "thanked"),
    "offer": ("offers", "offered"),
    "support": ("supports", "supported"),
    "reject": ("rejects", "rejected"),
    "commend": ("commends", "commended"),
    "explain": ("explains", "explained"),
    "respond": ("responds", "responded"),
    "remark": ("remarks", "remarked"),
    "mention": ("mentions", "mentioned"),
    "expect": ("expects", "expected"),
    "argue": ("argues", "argued"),
    "reflect": ("reflects", "reflected"),
    "consult": ("consults", "consulted"),
    "regard": ("regards", "regarded"),
    "attach": ("attaches", "attached"),
    "hail": ("hails", "hailed"),
    "salute": ("salutes", "saluted"),
    "laud": ("lauds", "lauded"),
    "point": ("points", "pointed"),
    "look": ("looks", "looked"),
    "call": ("calls", "called"),
    "exhort": ("exhorts", "exhorted"),
    "caution": ("cautions", "cautioned"),
    "conclude": ("concludes", "concluded"),
    "assert": ("asserts", "asserted"),
    "declare": ("declares", "declared"),
    "remind": ("reminds", "reminded"),
    "clarify": ("clarifies", "clarified"),
    "applaud": ("applauds", "applauded"),
    "advocate": ("advocates", "advocated"),
    "endorse": ("endorses", "endorsed"),
    "implore": ("implores", "implored"),
    "launch": ("launches", "launched"),
    "witness": ("witnesses", "witnessed"),
    "stand": ("stands", "stood"),
    "remain": ("remains", "remained"),
    "announce": ("announces", "announced"),
    "outline": ("outlines", "outlined"),
    "raise": ("raises", "raised"),
    "seek": ("seeks", "sought"),
    "suggest": ("suggests", "suggested"),
    "recommend": ("recommends", "recommended"),
    "inform": ("informs", "informed"),
    "reassure": ("reassures", "reassured"),
    "condole": ("condoles", "condoled"),
    "adhere": ("adheres", "adhered"),
    "felicitate": ("felicitates", "felicitated"),
    "criticize": ("criticizes", "criticized"),
    "criticise": ("criticises", "criticised"),
    "reassert": ("reasserts", "reasserted"),
    "uphold": ("upholds", "upheld"),
    "renew": ("renews", "renewed"),
    "lament": ("laments", "lamented"),
    "favor": ("favors", "favored"),
    "favour": ("favours", "favoured"),
    "repeat": ("repeats", "repeated"),
}

_VERB_KINDS: dict[str, str] = {}
for _lemmas, _kind in (
    (
        "say state note stress emphasize emphasise underline underscore add tell remark mention "
        "observe indicate affirm assure believe recall highlight describe argue conclude "
        "respond reply explain reassure assert declare remind clarify",
        "speech",
    ),
    (
        "reiterate reaffirm recognize recognise acknowledge welcome thank congratulate appreciate "
        "praise commend condemn denounce deplore oppose reject support express voice convey "
        "share reflect wish extend offer value regard attach hail salute laud warn caution "
        "regret confirm outline raise applaud advocate endorse condole adhere felicitate "
        "criticize criticise reassert uphold renew lament favor favour repeat",
        "stance",
    ),
    ("agree concur sign witness accept", "agree"),
    (
        "urge ask request demand appeal encourage invite exhort insist press expect seek "
        "propose suggest recommend implore",
        "request",
    ),
    ("hope", "hope"),
    ("pledge vow promise commit decide resolve announce launch undertake", "commit"),
    ("discuss exchange review talk explore brief update consult inform", "discuss"),
    ("speak meet hold host receive visit telephone phone pay", "narr"),
):
    for _lemma in _lemmas.split():
        _VERB_KINDS[_lemma] = _kind

# form -> (lemma, kind, is_base)
_FORMS: dict[str, tuple[str, str, bool]] = {}
for _lemma, _kind in _VERB_KINDS.items():
    _s, _p = _IRREGULAR.get(_lemma, (_lemma + "s", _lemma + "ed"))
    _FORMS[_lemma] = (_lemma, _kind, True)
    _FORMS[_s] = (_lemma, _kind, False)
    _FORMS[_p] = (_lemma, _kind, False)
# multiword / special heads handled in _match_verb
for _lemma, _kind in (
    ("point", "speech"),
    ("look", "stance"),
    ("call", "call"),
    ("stand", "commit"),
    ("remain", "commit"),
    ("give", "narr"),  # only "gave his assurance that ..." (see _verb_at)
    ("make", "narr"),  # only "made a commitment to ..."
):
    _s, _p = _IRREGULAR[_lemma]
    for _f, _b in ((_lemma, True), (_s, False), (_p, False)):
        _FORMS[_f] = (_lemma, _kind, _b)
_FORMS["voiced"] = ("voice", "stance", False)
# nouns that look like base verbs are only verbs after a plural/joint subject
_PAST_ONLY_AFTER_AND = frozenset(f for f, (_, _, b) in _FORMS.items() if not b)

_MODALS = frozenset({"will", "would", "shall"})
_SHOULD = frozenset({"should", "must", "ought", "need", "needs"})
_BE = frozenset(
    {"is", "are", "was", "were", "remains", "remain", "remained", "stands", "stand", "stood"}
)
_READY = frozenset(
    {"ready", "willing", "committed", "determined", "prepared", "eager", "keen", "looking"}
)
_ADVERBS = frozenset(
    """
        also further once again strongly firmly highly fully warmly repeatedly jointly both all
        then still fully deeply sincerely each particularly especially explicitly clearly
        readily briefly formally officially today yesterday separately in turn
    """.split()
)

_EXPRESS_NOUNS = {
    "hope": "hope",
    "hopes": "hope",
    "expectation": "hope",
    "expectations": "hope",
}

_PARTICIPLES = {
    "adding": "speech",
    "arguing": "speech",
    "noting": "speech",
    "stressing": "speech",
    "saying": "speech",
    "stating": "speech",
    "pointing": "speech",
    "emphasizing": "speech",
    "emphasising": "speech",
    "underlining": "speech",
    "underscoring": "speech",
    "highlighting": "speech",
    "recalling": "speech",
    "believing": "speech",
    "expressing": "stance",
    "reiterating": "stance",
    "reaffirming": "stance",
    "recognizing": "stance",
    "recognising": "stance",
    "acknowledging": "stance",
    "welcoming": "stance",
    "thanking": "stance",
    "congratulating": "stance",
    "calling": "call",
    "urging": "request",
    "asking": "request",
    "hoping": "hope",
    "describing": "speech",
    "affirming": "stance",
    "voicing": "stance",
    "conveying": "stance",
    "condemning": "stance",
    "praising": "stance",
    "announcing": "commit",
    "proposing": "request",
    "suggesting": "request",
    "inviting": "request",
    "warning": "stance",
    "confirming": "stance",
    "assuring": "speech",
}

_REPORT_VERBS = frozenset(
    """
        said says added noted stressed stated told explained emphasized emphasised underlined
        continued remarked concluded insisted warned believed replied responded observed
        pointed affirmed asserted argued underscored highlighted announced
    """.split()
)

# --- words ------------------------------------------------------------------------------------
_TITLE_WORDS = frozenset(
    """
        President Vice Prime Minister Ministers Premier Chancellor Foreign Secretary State
        Councilor Councillor Ambassador High Representative National Security Advisor Adviser
        Advisors Advisers Deputy King Queen Emir Crown Prince Sultan Sheikh Special Envoy
        Commissioner Director Chairman Chair Chairperson Spokesperson Spokesman Governor
        Senator Chief Executive Mr Mr. Mrs Mrs. Ms Ms. Dr Dr. Honorable Honourable His Her
        Excellency H.E. HE Defence Defense Affairs Home Finance Trade Cabinet Under Assistant
        First Lady Vice-President Vice-Premier Leader Supreme Majesty Royal Highness Federal
        Grand Duke Secretary-General Director-General Counsellor Commerce Economy Interior
        Justice Health Agriculture Energy Development Cooperation Senior General
        Minister-President Taoiseach Tánaiste Tanaiste Presidents Secretaries Leaders Mayor
        Speaker Sir Madam Mme
        Monsieur Professor Prof Prof. Lord Baroness Admiral Commander Colonel Treasury
        Exchequer External Hon Hon. Rt Rt. Shri Smt Labour Labor Education Transport
        Transportation Environment Industry Tourism Culture Science Technology Investment
        Planning Infrastructure Homeland Immigration Climate Digital Petroleum Mines Fisheries
        Veterans Overseas Crown Navy Army Staff Chiefs Attorney
    """.split()
)
_HEAD_TITLES = frozenset(
    """
        President Minister Premier Chancellor Secretary Councilor Councillor Ambassador
        Representative Advisor Adviser King Queen Emir Prince Sultan Sheikh Envoy Commissioner
        Director Chairman Chair Chairperson Spokesperson Spokesman Governor Senator Mr Mr. Mrs
        Mrs. Ms Ms. Dr Dr. Honorable Honourable Excellency H.E. HE Vice-President Vice-Premier
        Leader Secretary-General Director-General Counsellor Taoiseach Tánaiste Tanaiste Mayor
        Speaker Sir Madam
        Mme Monsieur Professor Prof Prof. Lord Baroness Admiral Commander Colonel
    """.split()
)
_CAP_STOP = frozenset(
    """
        The A An On In At During After Before While Both They He She We It This That These
        Those His Her Their Our Its And But Also However Furthermore Moreover Meanwhile As For
        With Regarding Noting Following Today Yesterday Earlier Later Under Over Through Since
        Between Joint Statement Readout Call Meeting Phone Telephone Talk Talks Press Release
        Summit Trilateral Bilateral Minister's Ministers' If When Where Why How Who Whom What
        Which Then Each Every All Some Many Most Other Another Such No Not Nor Or So Yet Both
        Either Neither January February March April May June July August September October
        November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday Jan Feb Mar
        Apr Jun Jul Aug Sep Sept Oct Nov Dec I II III
    """.split()
)
_CONNECTORS = frozenset("of for the and / de del al bin van von da la le el ibn bint dos".split())
_SUBJ_LOWER_OK = frozenset(
    """
        the of and for his her their its our both two three four five all new vice foreign
        minister ministers side sides counterpart counterparts government governments leader
        leaders president presidents prime secretary secretaries delegation delegations head
        heads state states country countries party parties national security advisor advisors
        adviser advisers officials official deputy senior chief who also further once again
        each other turn in he she they we team teams representative representatives envoy
        envoys as from spokesman spokeswoman spokesperson ministry ministries affairs office
    """.split()
)
_PLURAL_JOINT = frozenset(
    """
        sides leaders ministers countries parties delegations governments presidents heads
        advisors advisers secretaries counterparts officials participants representatives
        envoys premiers chancellors
    """.split()
)
_JOINT_NOUNS = frozenset(
    {"meeting", "talks", "summit", "dialogue", "consultations", "conference", "session"}
)
_ATTRIB_NOUNS = frozenset(
    """
        ministry spokesperson spokesman spokeswoman office statement release agency official
        officials sources source readout report department embassy
    """.split()
)

# --- patterns ----------------------------------------------------------------------------------
_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W\d_][\w'’-]*\.?|\d[\w:.,-]*|[,;:()/\"“”]")
_LIST_MARK = re.compile(
    r"^(?:\s*(?:\(?\d{1,3}[.)]|\(\d{1,3}\)|\([a-z]\)|[a-z][.)]|[-*•·▪◦–—]))+\s+"
    r"|^\s*[•·▪◦–—]\s*(?=[^\W\d_])"
)
_DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{2,}(?:,\s*[A-Z][a-z]{2,}\.?\s+\d{1,2})?(?:,\s*\d{4})?\s*"
    r"(?:\([^)]{1,40}\)|/[^/]{1,20}/)?\s*(?:--|—|–|-)\s*"
)
_OPENER = re.compile(
    r"^(?:In|During|On|At|Regarding|As for|As to|With regard to|With respect to|Concerning|"
    r"In light of|In the framework of|Furthermore|Moreover|In particular|In addition|"
    r"Additionally|Also|Meanwhile|However|But|Separately|Finally|Lastly|Further|Besides|"
    r"At the same time|On the other hand|Turning to|Referring to|For (?:its|his|her|"
    r"their) part|Likewise|Similarly|Today|Earlier|Later|Then|Thereafter|Subsequently|"
    r"Throughout|Against|Amid|Under|Following|After|Before|While|Whilst|Since|Given|Ahead of|"
    r"When|Upon|Once|As part of|Turning|Discussing|Touching on|Commenting on|Responding to|"
    r"Reflecting on|Speaking|Addressing|Talking to|Opening|Closing|Concluding|Building on|"
    r"Building upon|Drawing on|Based on|Guided by|which|whose|where|Reviewing|Examining|"
    r"Assessing|Looking at|Looking ahead to|Touching upon|"
    r"As(?= (?:a|an|the|two|both|major|important|fellow|close|permanent|key|leading|"
    r"responsible|neighbou?ring|strategic)\b))\b"
    r"[^,]{0,160},\s*"
)
_LEAD_CONJ = re.compile(r"^(?:But|And|Yet|So|However|Also|Moreover|Meanwhile)\s+(?=[a-zA-Z])")
# boilerplate lines: cues at the start (matched there only), and cues anywhere
_BOILER_START = re.compile(
    r"\s*(?:###|\*\*\*|END|\(END\)|-{2,})|photo\b|source:|readout\s*$|for immediate release|"
    r"\W*$|related:|tags?:",
    re.I,
)
_BOILER_ANY = ("attributable to", "as follows", "click here")
_EMAIL = re.compile(r"@\w+\.\w+")
_PERFECT_REPORT = re.compile(
    r"\b(?:has|have|had)\s+(?:long\s+|repeatedly\s+|previously\s+|also\s+)?"
    r"(?:said|argued|stated|claimed|maintained|insisted|asserted)\b"
)
_ATTRIB_TAIL = re.compile(
    r"[,;]\s*(?:(?:the|a|its|his|her)\s+)?(?:[A-Za-z'’-]+\s+){0,3}?"
    r"(?:ministry|spokesperson|spokesman|spokeswoman|office|statement|release|agency|"
    r"officials?|sources?|readout|report|department|embassy)\s+"
    r"(?:said|added|says|stated|noted|reported|announced)\b[^,.;]*"
    r"|[,;]?\s*according to (?:the|a)\s+[^,.;]{1,60}"
)
_SHOULD_RE = re.compile(r"\b(should|must|ought to|needs? to|have to|has to)\b")
_HOPE_THAT = re.compile(
    r"\b(?:hopes?|hoped|hoping|expectations?|expects?|expected)\b(?:\s+that)?\s+"
)
_NEED_FOR_NP_TO = re.compile(
    r"\s*(?:on\s+|upon\s+)?the\s+(?:urgent\s+|pressing\s+)?need\s+for\s+"
    r"((?:\S+\s+){0,5}?\S+)\s+to\s+(?!be\b)[a-z]"
)
_NEED_NP_TO = re.compile(
    r"\s*(?:we|i|they|[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,3})\s+(?:really\s+|also\s+|now\s+)?"
    r"(?:need|needs|want|wants|expect|expects|urge|urges)\s+(?!to\b)((?:\S+\s+){0,5}?\S+)"
    r"\s+to\s+(?!be\b)[a-z]",
    re.I,
)
_ACTOR_NP = re.compile(r"(?:the\s+)?[A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){0,2}")
_NEED_FOR = re.compile(r"\bthe need for\s+")
_GENERIC_ADDRESSEE = re.compile(
    r"(?:the\s+)?(?:international community|world community|global community|"
    r"(?:all\s+)?(?:the\s+)?(?:relevant|concerned|warring|conflicting)\s+(?:parties|sides)|"
    r"(?:all|both)\s+(?:the\s+)?(?:parties|sides)(?:\s+concerned)?|the parties concerned|"
    r"all (?:stakeholders|countries|states|nations)|(?:the\s+)?world|everyone)",
    re.I,
)
_THAT = re.compile(r"^\s*(?:that\b|:)\s*")
# "told / assured / reminded <someone> that ...": the content starts after "that"
_OBJECT_THAT = re.compile(
    r"^\s*(?:the\s+|his\s+|her\s+|their\s+)?(?:[A-Z][\w.'’-]*\s+){0,5}?"
    r"(?:[A-Z][\w.'’-]*|him|her|them|counterpart|side|leaders?|delegation|reporters|"
    r"journalists|the\s+(?:press|media))\s+that\s+"
)
_SPLIT = re.compile(
    r",?\s+and\s+(?=\S)|,\s+but\s+(?=\S)|,\s+(?:while|whereas)\s+(?=\S)|,\s+(?=(?:adding|arguing|noting|stressing|saying|expressing|underlining|"
    r"underscoring|emphasi[sz]ing|reiterating|calling|urging|asking|pointing out|highlighting|"
    r"welcoming|stating|reaffirming|hoping)\b)|;\s+"
)
_POSS_STANCE = re.compile(
    r"((?:the\s+)?[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,3})['’]s\s+(?:principled\s+|firm\s+|"
    r"consistent\s+|strong\s+)?(?:position|positions|stance|views?|concerns?|opposition|"
    r"support|commitment|objection)\b"
)
_LEAD_NP = re.compile(
    r"\s*(?:on\s+|upon\s+|that\s+)?((?:both\s+|all\s+)?(?:the\s+)?(?:[A-Z][\w.'’-]*"
    r"(?:\s+(?:and|of|the)\s+|,\s*|\s+)?)+)"
)
_COMMA = re.compile(r"[,，]\s*[\"”’']?\s*")
_JOINT_DOC = re.compile(
    r"\bjoint\s+(?:statement|readout|communiqu[eé]|declaration|press\s+(?:release|statement)|"
    r"press communiqu[eé])\b|\bcommuniqu[eé]\b",
    re.I,
)
_NARR_CUE = re.compile(
    r"\b(?:spoke|speaks|speak|met|meets|meet|held|holds|talked|phoned|telephoned|called on|"
    r"hosted|received|visited|visiting|conversation|phone call|telephone call|video call|"
    r"call with|talks with|meeting with|had a call|spoke by phone|telephone talk|"
    r"paid (?:an? )?(?:\w+ )?visit|(?:official|state|working) visit)\b",
    re.I,
)
_VIDEO = re.compile(
    r"\bvideo[\s-]?(?:call|conference|link|talks?|meeting|summit|chat)|"
    r"\bvirtual(?:ly)?\s+(?:meeting|summit|call|talks|met)|videoconference",
    re.I,
)
_CALL = re.compile(
    r"\b(?:phone|telephone|telephoned|phoned)\b|\bcall\b(?!\s+on)|\bcalls\b|"
    r"\bspoke\s+(?:with|to|today)\b|\btalked\s+(?:with|to)\b",
    re.I,
)
_MEETING = re.compile(
    r"\bmet\b|\bmeets?\b|\bmeeting\b|\btalks\b|\bhosted\b|\breceived\b|"
    r"\bcalled on\b|\blunch\b|\bdinner\b|\bsummit\b|\bconsultations\b",
    re.I,
)
_VISIT = re.compile(r"\bvisit(?:ed|ing|s)?\b", re.I)
_LOCATION = re.compile(
    r"\b(?:met|meet|meeting|talks|summit|hosted|convened|gathered)\b(?:\s+[\w'’.-]+){0,6}?\s+"
    r"(?:in|at)\s+((?:the\s+)?[A-ZÀ-Þ][\w'’.-]*(?:(?:,\s+|\s+)(?:[A-ZÀ-Þ][\w'’.]*))*)"
)
_REQUEST_OF = re.compile(
    r"\bat the (?:request|invitation|initiative) of\s+((?:the\s+)?[^,.;]{1,80})|"
    r"\b([A-Z][^,.;]{1,60}?)\s+(?:initiated|requested) the (?:call|meeting|talks|conversation)|"
    r"\binitiated by\s+((?:the\s+)?[^,.;]{1,60})",
)
_MONTHS = frozenset(
    """
        January February March April May June July August September October November December
    """.split()
)

_EN_STOP = frozenset(
    """
        the and of to in that is with for on was were has have by as at
    """.split()
)
_LANG_STOP = {
    "fr": frozenset(
        """
            le la les des et du une est avec dans pour qui sur au aux ce cette par pas ont été
        """.split()
    ),
    "es": frozenset(
        """
            el los las del y con por una para que se su al lo como más fue
        """.split()
    ),
    "de": frozenset(
        """
            der die das und mit den von ist zu nicht sich dem des ein eine auf für
        """.split()
    ),
    "sv": frozenset(
        """
            och att det som en på med för av är till den har om inte
        """.split()
    ),
    "it": frozenset(
        """
            il che di della con per non gli una sono nel alla dei delle
        """.split()
    ),
    "pt": frozenset(
        """
            os do da que com para uma não ao dos das em foi pela pelo
        """.split()
    ),
    "nl": frozenset(
        """
        het een van en de dat voor zijn niet ook aan
    """.split()
    ),
}
_WORDS = re.compile(r"[^\W\d_]+")


def _stop_langs() -> dict[str, tuple[str, ...]]:
    """Stop word -> the languages whose stop list holds it (one pass over a text's words)."""
    out: dict[str, tuple[str, ...]] = {}
    for lang, stops in (("en", _EN_STOP), *_LANG_STOP.items()):
        for w in stops:
            out[w] = (*out.get(w, ()), lang)
    return out


_STOP_LANGS = _stop_langs()
_LETTERS = re.compile(r"[^\W\d_]")
_SCRIPTS = (  # checked in this order: kana before CJK (Japanese text mixes both)
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\uac00-\ud7af]"), "ko"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
    (re.compile(r"[\u0400-\u04ff]"), "ru"),
    (re.compile(r"[\u0600-\u06ff]"), "ar"),
)


def _detect_language(document: Document) -> str:
    declared = (document.language or "").split("-")[0].split("_")[0]
    if declared:
        return declared
    body = document.body[:4000]
    if not body.isascii():
        n = len(_LETTERS.findall(body))
        for script, lang in _SCRIPTS:
            if n and len(script.findall(body)) > 0.3 * n:
                return lang
    words = _WORDS.findall(body)[:400]
    if len(words) < 6:
        return "en"
    counts = dict.fromkeys(("en", *_LANG_STOP), 0)
    for w in words:
        for lang in _STOP_LANGS.get(w.lower(), ()):
            counts[lang] += 1
    best, best_n = "en", counts["en"]
    for lang in _LANG_STOP:
        k = counts[lang]
        if k > best_n * 1.3 and k >= 3 and k >= 0.08 * len(words):
            best, best_n = lang, k
    return best


# --- document model ----------------------------------------------------------------------------
@dataclass
class _PartyInfo:
    code: str
    name: str
    title: str | None
    role: str = "participant"
    from_country: bool = False


@dataclass
class _Item:
    category: str
    speakers: tuple[str, ...]
    to: tuple[str, ...]
    start: int
    end: int
    kind: str = ""  # force or agreement kind


@dataclass
class _Ctx:
    doc: Document
    lang: str = "en"
    issuer: str | None = None
    joint_doc: bool = False
    participants: dict[str, _PartyInfo] = field(default_factory=dict)
    third: dict[str, _PartyInfo] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # lower name token -> code
    titles: list[tuple[str, str]] = field(default_factory=list)  # (lower title, code)
    last_single: str | None = None
    items: list[_Item] = field(default_factory=list)
    initiated_by: str | None = None
    narration_index: int | None = None
    gender: dict[str, str] = field(default_factory=dict)  # code -> "m"/"f" (for he/she)
    surnames: dict[str, str] = field(default_factory=dict)  # bare surname -> code (cache)
    cur_sentence: int = -1  # the sentence being analysed
    last_at: int = -2  # the sentence where last_single was set
    first_person: bool = False  # "Today I spoke with ...": the issuer's official writes as "I"


def _tokens(text: str, base: int = 0) -> tuple[tuple[int, int, str], ...]:
    """Word tokens of `text` as (start + base, end + base, token).

    Inside a document run `text` is nearly always `source[base:base + len(text)]`; its tokens
    are then the source's tokens (found once per document) that lie inside the range, plus a
    re-scan of the range's tail when a source token runs past its end ("relations." cut before
    the period). That is exactly what scanning `text` gives: the pattern has no lookaround, so
    a scan that starts where the source scan had a token boundary matches the same tokens.
    """
    index = _SOURCE_TOKENS.get()
    if index is not None and base:
        src, toks, starts = index
        end = base + len(text)
        if src.startswith(text, base):
            i = bisect.bisect_left(starts, base)
            if i == 0 or toks[i - 1][1] <= base:  # no source token runs across the start
                j = bisect.bisect_left(starts, end)
                while j > i and toks[j - 1][1] > end:
                    j -= 1  # a token running across the end: re-scan from the last one inside
                inside = toks[i:j]
                tail = inside[-1][1] if inside else base
                if tail >= end:
                    return inside
                return inside + tuple(
                    (m.start(), m.end(), m.group()) for m in _TOKEN.finditer(src, tail, end)
                )
    return tuple((m.start() + base, m.end() + base, m.group()) for m in _TOKEN.finditer(text))


# (source, its tokens, their start offsets) of the document being analysed (see _tokens)
_SOURCE_TOKENS: ContextVar[tuple[str, tuple[tuple[int, int, str], ...], list[int]] | None] = (
    ContextVar("readout_source_tokens", default=None)
)


def _strip_tok(w: str) -> str:
    if w.endswith((".",)) and len(w) > 2 and w.count(".") == 1 and w not in _TITLE_WORDS:
        w = w[:-1]
    for suf in ("'s", "’s", "'", "’"):
        if w.endswith(suf) and len(w) > len(suf) + 1:
            return w[: -len(suf)]
    return w


def _is_cap(w: str) -> bool:
    return w[:1].isupper()


@lru_cache(maxsize=8192)
def _country_spans(text: str) -> tuple[tuple[int, int, str, str], ...]:
    return tuple(_country_spans_uncached(text))


_THE_ALLIANCE = re.compile(r"Alliance(?!\s+(?:for|of|on|to)\b|\s+[A-Z])")


def _country_spans_uncached(text: str) -> list[tuple[int, int, str, str]]:
    out = []
    for m in country_regex().finditer(text):
        code = lookup(m.group())
        if (
            code
            and m.group() == "Alliance"
            and (
                text[max(0, m.start() - 4) : m.start()].lower() != "the "
                or not _THE_ALLIANCE.match(text, m.start())
            )
        ):
            continue  # only "the Alliance" on its own names NATO, not "the Global Alliance for"
        if not code:
            continue
        if _GEO_FEATURE.match(text, m.end()):
            continue  # "the Indian Ocean", "South China Sea": a place, not a party
        kind = kind_of(m.group())
        if kind == "capital" and _FIRST_NAME_CAPITAL.match(text, m.end()):
            prev = text[max(0, m.start() - 40) : m.start()].split()
            if prev and (prev[-1] in _TITLE_WORDS or prev[-1].rstrip(".") in _TITLE_WORDS):
                continue  # "Foreign Minister Sofia Marin": a first name, not the city
        out.append((m.start(), m.end(), code, kind))
    return out


_GEO_FEATURE = re.compile(r"\s+(?:Ocean|Sea|Gulf|Peninsula|Subcontinent|Basin)\b")
_FIRST_NAME_CAPITAL = re.compile(r"\s+[A-ZÀ-Þ][a-zà-ÿ'’-]+\b")


def _issuer_country(meta: dict) -> str | None:
    issuer = meta.get("issuer", "") or ""
    for text in (issuer, meta.get("source", "") or ""):
        spans = _country_spans(text)
        for _s, _e, code, kind in spans:
            if kind == "weak":
                continue
            return code
    return None


# --- person extraction -------------------------------------------------------------------------
@dataclass
class _Person:
    name: str
    title: str
    code: str | None
    start: int
    end: int


_NAME_PARTICLES = frozenset({"bin", "ibn", "bint", "al", "el", "da", "de", "dos", "van", "von"})
_PARTICLE_NAME = re.compile(
    r"^(?:al|el|ad|as|ash|at|an|ibn|bin|ben|abu|da|de|di|du|van|von|der|dos|das|del|della|la|le)"
    r"-[A-ZÀ-Þ][\w'’-]+$"
)


_HEADING_VERBS = frozenset(
    """
        travels arrives attends addresses chairs co-chairs joins opens leads participates
        departs concludes begins launches inaugurates visits returns
    """.split()
)


def _heading_verb(w: str) -> bool:
    """A capitalised verb form in a Title Case heading ("Holds", "Meets", "Travels")."""
    if w == "Said" or not w[:1].isupper():
        return False
    low = w.lower()
    if low in _HEADING_VERBS:
        return True
    f = _FORMS.get(low)
    return bool(f) and not f[2] and low[-1:] in "sd"


_NAME_ABBR_END = re.compile(r"(?:^|\s)[A-Z][a-z]{0,2}\.$")
_POST_NOMINALS = frozenset("TD MP MEP MLA MSP MHA KC QC OBE CBE MBE KBE GCMG PC".split())


_HONORIFICS = frozenset({"Mr", "Mrs", "Ms", "Dr", "Madam", "Mme", "Mx"})


@lru_cache(maxsize=4096)
def _token_class(w: str) -> tuple[str, str]:
    """A token's stripped form and context-free class for `_persons`: P (a particle name such
    as "al-Sudani"), H (head title), T (title), K (connector), N (name-like), X (other)."""
    sw = _strip_tok(w)
    if _PARTICLE_NAME.match(sw):
        return sw, "P"
    if sw in _TITLE_WORDS:
        return sw, "H" if sw in _HEAD_TITLES or sw.rstrip("s") in _HEAD_TITLES else "T"
    if sw == "counterpart":
        return sw, "H"  # "his Iranian counterpart Masoud Pezeshkian"
    if w in _CONNECTORS:
        return sw, "K"
    if (_is_cap(w) and sw not in _CAP_STOP and len(sw) > 1) or _INITIAL.fullmatch(w):
        return sw, "N"
    return sw, "X"


_INITIAL = re.compile(r"[A-Z]\.")


def _persons(text: str, base: int = 0) -> list[_Person]:
    """Titled persons in `text` (names after a title, appositions, 'counterpart, X')."""
    # positions are source offsets (text starts at `base`): `text` is then nearly always a
    # range of the document source, whose tokens `_tokens` slices instead of re-scanning
    countries = _country_spans(text)
    cmap = {s + base: (e + base, code) for s, e, code, _k in countries}
    toks = _tokens(text, base)
    # merge country tokens
    items: list[tuple[int, int, str, str]] = []  # (start, end, text, type)
    i = 0
    while i < len(toks):
        s, e, w = toks[i]
        if s in cmap:
            ce, code = cmap[s]
            j = i
            while j < len(toks) and toks[j][0] < ce:
                j += 1
            items.append((s, ce, code, "C"))
            if j < len(toks) and toks[j][0] < ce + 3 and toks[j][2] in ("'s", "’s"):
                j += 1
            i = max(j, i + 1)
            continue
        sw, typ = _token_class(w)
        if (
            sw in _HONORIFICS
            and items
            and items[-1][2] == ","
            and i + 1 < len(toks)
            and _is_cap(toks[i + 1][2])
        ):
            i += 1  # "The Minister of ..., Mr Ronald Lamola": the apposition names the title
            continue
        if typ == "P":
            items.append((s, e, sw, "N"))  # "al-Sudani", "el-Sisi"
            i += 1
            continue
        if (
            len(sw) == 2
            and sw in _CAP_STOP
            and items
            and items[-1][3] in ("H", "T")
            and not toks[i - 1][2].endswith(".")
            and i + 1 < len(toks)
            and _is_cap(toks[i + 1][2])
            and _strip_tok(toks[i + 1][2]) not in _CAP_STOP
            and _strip_tok(toks[i + 1][2]) not in _TITLE_WORDS
            and toks[i + 1][0] not in cmap
        ):
            items.append((s, e, sw, "N"))  # a short surname after a title ("Vice Premier He")
            i += 1
            continue
        if typ == "N" and items and items[-1][3] == "N" and _heading_verb(sw):
            typ = "X"  # "Minister Sofia Dimova Holds Talks with ...": a verb ends the name
        items.append((s, e, sw if typ == "N" else w, typ))
        i += 1
    persons: list[_Person] = []
    n = len(items)
    k = 0
    while k < n:
        s, e, w, typ = items[k]
        if typ != "N":
            k += 1
            continue
        j = k
        while j < n and (
            items[j][3] == "N"
            or (
                # "Mohammed bin Salman", "Luiz Inácio Lula da Silva": a particle inside a name
                items[j][3] == "K"
                and items[j][2] in _NAME_PARTICLES
                and j > k
                and j + 1 < n
                and items[j + 1][3] == "N"
            )
        ):
            j += 1
        if j - k >= 3 and items[j - 1][2] in _POST_NOMINALS:
            j -= 1  # "Ciarán Dolan TD", "Jane Doe MP": a post-nominal is not part of the name
        name_toks = items[k:j]
        # what precedes: walk back over the run
        prev = items[k - 1] if k > 0 else None
        title_start = None
        code = None
        ok = False
        if prev and prev[3] in ("H", "T", "C"):
            # walk back through the titled run
            b = k - 1
            saw_head = False
            allowed = ("H", "T", "C", "K", "N") if prev[3] == "C" else ("H", "T", "C", "K")
            while b >= 0 and b > k - 16 and (
                items[b][3] in allowed
                or (
                    # "Cabinet Secretary for Foreign and Diaspora Affairs": a portfolio word
                    # between a connector and a title word
                    items[b][3] == "N"
                    and b > 0
                    and b + 1 < k
                    and items[b - 1][2] in ("and", "of", "for")
                    and items[b + 1][3] == "T"
                )
                or (
                    # "Minister of Economy, Trade and Industry of Japan Sato Kenji": a comma
                    # inside a titled portfolio list
                    prev[3] == "C"
                    and items[b][2] == ","
                    and b > 0
                    and items[b - 1][3] in ("N", "T")
                    and items[b + 1][3] in ("N", "T", "C")
                )
            ):
                if (
                    items[b][3] == "K"
                    and items[b][2] == "and"
                    and b > 0
                    and items[b - 1][3] == "N"
                    and (prev[3] != "C" or all(items[q][2] != "," for q in range(max(0, b - 4), b)))
                ):
                    break
                if items[b][3] == "H":
                    saw_head = True
                if items[b][3] == "C" and code is None:
                    code = items[b][2]
                b -= 1
            if (
                code is None
                and b >= 1
                and items[b][2] == ","
                and items[b - 1][3] == "C"
                and items[b + 1][2] not in ("and", "or")  # ", and H.E. Mr. X": a list
            ):
                # "the Minister of Foreign Affairs of Brazil, Ambassador Mauro Vieira": the
                # titled run before the comma names the state of the titled name after it
                q = b - 1
                while q >= 0 and items[q][3] in ("H", "T", "C", "K"):
                    if items[q][3] == "H":
                        code = items[b - 1][2]
                        break
                    q -= 1
            # a possessive country right before ("Seoul's Vice Foreign Minister")
            if saw_head and (prev[3] in ("H", "T") or prev[3] == "C"):
                ok = True
                title_start = items[b + 1][0]
                while title_start < s and items[b + 1][3] in ("K", "C") and b + 1 < k:
                    b += 1
                    title_start = items[b + 1][0]
        elif prev and prev[2] == "," and k >= 2:
            # apposition: "..., Joe Biden" after a titled run, or "counterpart, X"
            p2 = items[k - 2]
            if p2[2].lower() in ("counterpart",) and k >= 3 and items[k - 3][3] == "C":
                ok, code = True, items[k - 3][2]
                title_start = items[k - 3][0]
            elif p2[3] == "C" and j - k >= 2:
                b = k - 2
                saw_head = False
                while b >= 0 and (
                    items[b][3] in ("H", "T", "C", "K")
                    or (
                        # "... for Foreign and Diaspora Affairs of Kenya, Jomo Wanjiru"
                        items[b][3] == "N"
                        and b > 0
                        and items[b - 1][2] in ("and", "of", "for")
                        and items[b + 1][3] == "T"
                    )
                    or (
                        # "Minister of Foreign Affairs and Human Mobility of the Republic of
                        # Ecuador, Gabriela Sommerfeld": a two-word portfolio after "and"
                        items[b][3] == "N"
                        and b > 1
                        and (
                            items[b - 1][2] in ("and", "of", "for")
                            or (items[b - 1][3] == "N" and items[b - 2][2] in ("and", "of", "for"))
                        )
                        and items[b + 1][3] in ("N", "K")
                        and any(items[q][3] == "H" for q in range(max(0, b - 8), b))
                    )
                ):
                    saw_head = saw_head or items[b][3] == "H"
                    b -= 1
                if saw_head:
                    ok, code = True, p2[2]
                    title_start = items[b + 1][0]
            elif p2[3] in ("H", "T", "N") and j - k >= 2:
                # "The President of the Government, Javier Montero, ...": a titled run with no
                # country opening the clause; the state is left to the issuer / context
                b = k - 2
                saw_head = False
                cc = None
                while b >= 0 and b > k - 12 and items[b][3] in ("H", "T", "C", "K", "N"):
                    saw_head = saw_head or items[b][3] == "H"
                    if items[b][3] == "C":
                        cc = cc or items[b][2]
                    b -= 1
                if (
                    saw_head
                    and (b < 0 or items[b][2].lower() == "the")
                    and items[b + 1][3] in ("H", "T")
                ):
                    ok, code = True, cc
                    title_start = items[b + 1][0]
        if not ok and j - k >= 2 and j + 1 < n and items[j][2] == "," and items[j + 1][3] in (
            "H",
            "T",
        ):
            # "received Mihai Popșoi, Deputy Prime Minister and Minister of Foreign Affairs of
            # the Republic of Moldova": an untitled name with a titled apposition naming a state
            q = j + 1
            saw_head = False
            while q < n and q < j + 18 and (
                items[q][3] in ("H", "T", "K", "C") or (saw_head and items[q][3] == "N")
            ):
                saw_head = saw_head or items[q][3] == "H"
                if items[q][3] == "C":
                    ok = saw_head
                    break
                q += 1
        if ok:
            name = text[name_toks[0][0] - base : name_toks[-1][1] - base]
            name = _strip_tok(name) if name.endswith(("'s", "’s")) else name
            # "of <Country>" right after the name wins
            if j + 1 < n and items[j][2] == "of":
                q = j + 1
                if q < n and items[q][2] == "the":
                    q += 1
                if q < n and items[q][3] == "C":
                    code = items[q][2]
            # apposition after: "X, Minister for Foreign Affairs of Japan"
            appos = None
            if j < n and items[j][2] == ",":
                q = j + 1
                saw_head = False
                while (
                    q < n
                    and q < j + 18
                    and (items[q][3] in ("H", "T", "K", "C") or (saw_head and items[q][3] == "N"))
                ):
                    saw_head = saw_head or items[q][3] == "H"
                    if items[q][3] == "C" and saw_head:
                        r = q + 1
                        while r < n and items[r][3] in ("H", "T", "K"):
                            r += 1
                        if r < n and items[r][3] == "N":
                            break  # "X, Secretary ... of the Philippines Mr Y": Y's title
                        if code is None:
                            code = items[q][2]
                        appos = text[items[j + 1][0] - base : items[q][0] - base].strip()
                        break
                    q += 1
            title = (
                text[title_start - base : name_toks[0][0] - base].strip(" ,")
                if title_start is not None
                else ""
            )
            if appos and (
                not title
                or title.rstrip(".")
                in ("Mr", "Mrs", "Ms", "Dr", "Honorable", "Honourable", "the Honorable")
            ):
                title = appos
            persons.append(
                _Person(name.rstrip(".,"), title, code, s, name_toks[-1][1])
            )
        k = j
    return persons


def _clean_title(title: str) -> str | None:
    t = re.sub(r"^(?:(?:and|or)\s+)?(?:the|The)\s+", "", title)
    t = re.sub(r"^(?:His|Her)\s+(?:Royal\s+)?(?:Highness|Majesty|Excellency)\s+", "", t)
    spans = _country_spans(t)
    if spans:
        s, e, _c, _k = spans[0]
        if s == 0:
            t = t[e:]
            t = re.sub(r"^['’]s\s+", "", t)
    t = re.sub(r"\s+of\s*$", "", t).strip(" ,")
    t = re.sub(r"(?:^|\s+)(?:Dr|Mr|Mrs|Ms|Prof|H\.E|the Honou?rable|Honou?rable)\.?$", "", t)
    t = re.sub(r"^(?:Mr|Mrs|Ms|Dr|Prof|H\.E)\.?$", "", t).strip(" ,")
    t = re.sub(
        r"(?:\s+(?:the|Senator|Rt\.?|Right|Hon\.?|Honou?rable|Dr\.?|Mr\.?|Ms\.?|Shri|Smt\.?|"
        r"Shrimati|Sri))+$",
        "",
        t,
    )
    t = re.sub(r"\s+of\s*$", "", t).strip(" ,")
    if t.lower() in ("counterpart", "counterparts"):
        return None  # "his Iranian counterpart X": a relation, not a title
    return t or None


# --- the engine --------------------------------------------------------------------------------
class RulesEngine(Engine):
    """Offline rule-based engine: deterministic, fast, English readouts."""

    name = "rules"
    model = None

    def run(self, document: Document) -> EngineOutput:
        warnings: list[str] = []
        toks = _tokens(document.source)  # base 0: a plain scan
        token = _SOURCE_TOKENS.set((document.source, toks, [t[0] for t in toks]))
        try:
            summary = _summarize(document, warnings)
        except Exception as exc:  # never crash on odd input: fall back to an empty summary
            warnings.append(
                f"offline engine failed on this text ({type(exc).__name__}); "
                "returned an empty summary"
            )
            summary = ReadoutSummary(headline=_fallback_headline(document))
        finally:
            _SOURCE_TOKENS.reset(token)
        return EngineOutput(summary=summary, warnings=warnings)


def _fallback_headline(document: Document) -> str:
    for s in document.sentences:
        t = " ".join(s.text.split())
        if any(c.isalnum() for c in t):
            return t[:400]
    return "Readout with no recognizable text."


def _summarize(doc: Document, warnings: list[str]) -> ReadoutSummary:
    ctx = _Ctx(doc=doc)
    ctx.lang = _detect_language(doc)
    ctx.issuer = _issuer_country(dict(doc.metadata))
    sents = doc.sentences
    if ctx.lang != "en":
        warnings.append(
            f"offline engine supports English only; detected language {ctx.lang!r}: "
            "items were not extracted"
        )
        return _foreign_summary(ctx)
    headings = [_is_heading(doc, s) for s in sents]
    head_text = " ".join(s.text for s, h in zip(sents, headings, strict=True) if h)[:2000]
    first_text = " ".join(s.text for s in sents[:3])
    ctx.joint_doc = bool(_JOINT_DOC.search(head_text) or _JOINT_DOC.search(first_text[:300]))
    _find_participants(ctx, headings)
    if ctx.issuer in ctx.participants and ctx.narration_index is not None:
        ctx.first_person = bool(_FIRST_PERSON.search(sents[ctx.narration_index].text))
    _find_items(ctx, headings)
    _find_third_parties(ctx, headings)
    event = _event(ctx, headings)
    return _build(ctx, event, headings)


_FIRST_PERSON = re.compile(
    r"(?<![\"“‘'])(?:^|\s)I\s+(?:have\s+|had\s+|just\s+|also\s+|today\s+)?(?:spoke|met|held|had|"
    r"received|welcomed|hosted|called|talked|telephoned|phoned)\b"
)


def _is_heading(doc: Document, s: Sentence) -> bool:
    t = s.text.strip()
    if _BOILER_START.match(t) or ("@" in t and _EMAIL.search(t)):
        return True
    low = t.lower()
    if any(cue in low for cue in _BOILER_ANY):
        return True
    letters = sum(c.isalpha() for c in t[:80])
    if letters < 3:
        return True
    nxt = doc.source[s.end : s.end + 2]
    ends_line = not nxt or nxt[0] == "\n" or nxt.startswith("\r")
    # no final punctuation at the end of a line: a title, a date line, a heading
    return not _FINAL_PUNCT.search(t) and ends_line


_FINAL_PUNCT = re.compile(r"[.!?。！？][\"'”’)\]]*$")


def _is_narration(text: str) -> bool:
    return bool(_NARR_CUE.search(text))


def _register(ctx: _Ctx, code: str, name: str, title: str | None) -> None:
    if code not in ctx.participants:
        ctx.participants[code] = _PartyInfo(code, name[:200], (title or None) and title[:200])
    info = ctx.participants[code]
    if info.title is None and title:
        info.title = title[:200]


def _index_person(ctx: _Ctx, p: _Person) -> None:
    if not p.code:
        return
    for tok in re.split(r"[\s.]+", p.name):
        t = tok.strip("'’").lower()
        if len(t) < 2 or t in ("jr", "sr", "de", "al", "bin", "van", "von", "da"):
            continue
        prev = ctx.names.get(t)
        if prev is not None and prev != p.code:
            ctx.names[t] = ""  # ambiguous
        else:
            ctx.names[t] = p.code


def _find_participants(ctx: _Ctx, headings: list[bool]) -> None:
    doc = ctx.doc
    sents = doc.sentences
    # 1) the narration sentence: the first body sentence describing the contact
    narr = None
    for s, h in zip(sents, headings, strict=True):
        if h:
            continue
        if _is_narration(s.text):
            narr = s
            break
    if narr is None:
        narr = next((s for s, h in zip(sents, headings, strict=True) if not h), None)
    ctx.narration_index = narr.index if narr else None
    # persons everywhere (for surnames), participants from the narration sentence
    all_persons: list[tuple[Sentence, _Person]] = []
    prev_s: Sentence | None = None
    for s in sents:
        text = _strip_prefix(s.text)
        off = s.start + (len(s.text) - len(text))
        found = _persons(text, off)
        if (
            prev_s is not None
            and _NAME_ABBR_END.search(prev_s.text)
            and s.start - prev_s.end <= 2
            and "\n" not in doc.source[prev_s.end : s.start]
            and s.text[:1].isupper()
        ):
            # "Foreign Adviser Md. | Touhid Hossain held ...": the segmenter cut a name at an
            # abbreviated given name; read the titled name across the cut
            joined = [p for p in _persons(doc.source[prev_s.start : s.end], prev_s.start)
                      if p.start < s.start < p.end]
            if joined:
                cut = min(p.start for p in joined)
                all_persons = [(q, p) for q, p in all_persons if q is not prev_s or p.end < cut]
                found = joined + [p for p in found if p.start >= max(p.end for p in joined)]
        for p in found:
            all_persons.append((s, p))
        prev_s = s
    unknown: list[_Person] = []
    if narr is not None:
        narr_idx = {narr.index}
        narr_persons = [p for s, p in all_persons if s.index == narr.index]
        nxt = narr.index + 1
        if (
            sum(1 for p in narr_persons if p.code) < 2
            and nxt < len(sents)
            and not headings[nxt]
            and not _paragraph_break(ctx, narr, sents[nxt])
            and _is_narration(sents[nxt].text)
        ):
            narr_idx.add(nxt)  # the segmenter cut the narration ("Japan-U.S. Foreign ...")
            narr_persons += [p for s, p in all_persons if s.index == nxt]
        for p in narr_persons:
            if p.code:
                _register(ctx, p.code, p.name, _clean_title(p.title))
            else:
                unknown.append(p)
        # countries named in the narration subject/object ("The ministers of X and Y spoke")
        text = " ".join(sents[i].text for i in sorted(narr_idx))
        cut = re.search(
            r"\b(?:to discuss|on\b|about|regarding|amid|following|after|ahead of|"
            r"in order to|to review|to exchange|during which)\b",
            text,
        )
        head_part = text[: cut.start()] if cut else text
        if len(ctx.participants) + len(unknown) < 2:
            for _s, _e, code, kind in _country_spans(head_part):
                if kind in ("country", "demonym") and len(ctx.participants) + len(unknown) < 2:
                    _register(ctx, code, code_name(code, head_part), None)
                    ctx.participants[code].from_country = True
        # an unnamed official ("The Prime Minister spoke to ...") is the issuer's
        m = re.match(
            r"^\s*The\s+((?:[A-Z][\w-]*\s+){0,3}?(?:Prime Minister|President|"
            r"Secretary-General|Director-General|Secretary(?: of State)?|Chancellor|"
            r"Foreign Secretary|Foreign Minister|"
            r"High Representative|Premier|Minister|Taoiseach|T[áa]naiste|Chief Executive))\b"
            r"(?!\s+(?:[A-Z][a-z]|of\b|for\b))",
            text,
        )
        if m and ctx.issuer and not unknown:
            _register(ctx, ctx.issuer, m.group(1), m.group(1))
    untitled = _untitled_subject(narr.text) if narr is not None else None
    # "Vladimir Putin had a telephone conversation with ...": the issuer's own official
    if (
        untitled is not None
        and narr is not None
        and not unknown
        and ctx.issuer
        and not _resolve_np(ctx, untitled[0])
        and (ctx.issuer not in ctx.participants or ctx.participants[ctx.issuer].from_country)
    ):
        unknown.append(
            _Person(untitled[0], "", None, narr.start + untitled[1], narr.start + untitled[2])
        )
        if ctx.issuer in ctx.participants:
            info = ctx.participants[ctx.issuer]
            info.name, info.from_country = untitled[0], False
    if len(unknown) > 1:
        # "The Spokesman ..., Ambassador X, stated that President Y received a call": the
        # spokesperson reports the call; the issuer's participant is the other official
        spokes = [
            p
            for p in unknown
            if re.search(r"\b[Ss]pokes", p.title)
            or re.search(
                r"\b[Ss]pokes\w*(?:\s+(?:for|of)\s+[^,;]{0,50})?,\s*(?:[A-Z][\w.]*\s+){0,2}$",
                doc.source[max(0, p.start - 90) : p.start],
            )
        ]
        if spokes and len(spokes) < len(unknown):
            unknown = [p for p in unknown if p not in spokes]
    for p in unknown:
        code = None
        if ctx.issuer and (
            ctx.issuer not in ctx.participants or ctx.participants[ctx.issuer].name == p.name
        ):
            code = ctx.issuer
        if code:
            p.code = code
            _register(ctx, code, p.name, _clean_title(p.title))
            if not p.title:
                all_persons.append((narr, p))
    # 2) too few: the headline ("Japan-U.S. Foreign Ministers' Telephone Talk")
    if len(ctx.participants) < 2:
        for s, h in zip(sents, headings, strict=True):
            if not h:
                continue
            for p in _persons(s.text, s.start):
                if p.code and len(ctx.participants) < 2:
                    _register(ctx, p.code, p.name, _clean_title(p.title))
            if len(ctx.participants) < 2:
                for _a, _b, code, kind in _country_spans(s.text):
                    if kind in ("country", "demonym") and len(ctx.participants) < 2:
                        _register(ctx, code, code_name(code, s.text), None)
            break
    if len(ctx.participants) < 2 and ctx.issuer and ctx.issuer not in ctx.participants:
        _register(ctx, ctx.issuer, code_name(ctx.issuer, ""), None)
    # name index: every titled person we could place
    for _s, p in all_persons:
        if p.code is None:
            for q in unknown:
                if q.name == p.name:
                    p.code = q.code
        if p.code is None and ctx.issuer in ctx.participants and p.title:
            # "President Daniel Kiprono" with no state anywhere, in a State House release where
            # the issuer's side has no named official yet: the issuer's own official
            info = ctx.participants[ctx.issuer]
            if (
                (
                    info.from_country
                    or any(kd != "capital" for _a, _b, _c, kd in _country_spans(info.name))
                    or info.name == ctx.issuer
                )
                and not any(ctx.names.get(t.lower()) for t in p.name.split())
                and re.search(r"\b(?:" + "|".join(_HEAD_TITLES_RE) + r")\b", p.title)
            ):
                p.code = ctx.issuer
                info.name, info.from_country = p.name, False
                info.title = info.title or _clean_title(p.title)
        if p.code:
            _index_person(ctx, p)
    for _s, p in all_persons:
        # "Mr. Ablakwa", "Crown Prince ...", "Ms. Joly": the gender a later he/she must fit
        words = set(p.title.split())
        code = p.code or ctx.names.get(p.name.split()[-1].strip("'’").lower()) if p.name else None
        if not code or code not in ctx.participants:
            continue
        if words & _MALE_TITLES and not words & _FEMALE_TITLES:
            ctx.gender.setdefault(code, "m")
        elif words & _FEMALE_TITLES and not words & _MALE_TITLES:
            ctx.gender.setdefault(code, "f")
            info = ctx.participants.get(p.code)
            if info is not None and p.name and info.from_country:
                info.name, info.from_country = p.name, False
                info.title = info.title or _clean_title(p.title)
    issuer_info = ctx.participants.get(ctx.issuer) if ctx.issuer else None
    if issuer_info is not None and not issuer_info.title:
        # an untitled issuer official ("Vladimir Putin ...") takes the office named by the issuer
        # ("President of Russia", "Office of the Prime Minister"): "The President noted ..."
        m = _ISSUER_OFFICE.search(str(dict(ctx.doc.metadata).get("issuer", "") or ""))
        if m:
            issuer_info.title = m.group(1)
    for code, info in ctx.participants.items():
        if not info.title and narr is not None:
            # "... a call from the President of the Republic of Türkiye, Mr. Kemal Aydın":
            # the office is named before "of <state>" rather than before the name
            for m in _OFFICE_OF.finditer(narr.text):
                if any(c == code for _s, _e, c, _k in _country_spans(m.group(2))):
                    info.title = m.group(1)
                    break
        if info.title:
            ctx.titles.append((info.title.lower(), code))
            for sub in re.split(r"\s*(?:/|\band\b|,)\s*", info.title):
                if sub and sub != info.title:
                    ctx.titles.append((sub.lower(), code))
            for tok in re.split(r"[\s/]+", info.title):
                if tok in _HEAD_TITLES and tok not in ("Mr", "Mr.", "Dr", "Dr.", "Ms", "Ms."):
                    ctx.titles.append((tok.lower(), code))
            # the title's initials ("External Affairs Minister" -> "EAM", "Prime Minister" -> "PM")
            caps = [w for w in re.split(r"[\s/-]+", info.title) if w in _TITLE_WORDS]
            if 2 <= len(caps) <= 5 and caps[-1] in _HEAD_TITLES:
                ctx.titles.append(("".join(w[0] for w in caps).lower(), code))
        # the official is also known by a bare name ("Hayashi")
    # initiated by
    if narr is not None:
        m = _REQUEST_OF.search(narr.text)
        if m:
            who = (m.group(1) or m.group(2) or m.group(3) or "").strip()
            ctx.initiated_by = _resolve_initiator(ctx, who, narr.text)


_OFFICE_OF = re.compile(
    r"\b(President|Prime Minister|Foreign Minister|Minister of Foreign Affairs|Chancellor|"
    r"Premier|King|Emir|Sultan|Crown Prince|Vice President|Secretary of State|Foreign Secretary)"
    r"\s+of\s+(?:the\s+)?([A-ZÀ-Þ][^,;.()]{1,60})"
)


_UNTITLED = re.compile(
    r"^\s*((?:[A-ZÀ-Þ][\w'’-]+|[a-z]{1,4}-[A-ZÀ-Þ][\w'’-]+)"
    r"(?:\s+(?:[A-ZÀ-Þ][\w'’-]+|[A-Z]\.|[a-z]{1,4}-[A-ZÀ-Þ][\w'’-]+|da|de|dos|van|von|bin)){1,4})"
    r"\s+(?:[a-z]+ly\s+)?(?:had|has|held|holds|spoke|speaks|met|meets|received|receives|"
    r"hosted|hosts|talked|talks|telephoned|phoned|called|conducted|visited|paid)\b"
)


_ISSUER_OFFICE = re.compile(
    r"\b(President|Prime Minister|Chancellor|Premier|Taoiseach|T[áa]naiste|King|Emir|Crown Prince|"
    r"Sultan|Foreign Minister|Foreign Secretary)\b"
)


def _untitled_subject(text: str) -> tuple[str, int, int] | None:
    """An untitled full name opening the narration sentence ("Vladimir Putin had a call ...")."""
    m = _UNTITLED.match(_strip_prefix(text))
    if m is None:
        return None
    words = m.group(1).split()
    if any(w in _TITLE_WORDS or w in _CAP_STOP for w in words) or _country_spans(m.group(1)):
        return None
    off = len(text) - len(_strip_prefix(text))
    return m.group(1), off + m.start(1), off + m.end(1)


_HEAD_TITLES_RE = (
    "President",
    "Prime Minister",
    "Minister",
    "Premier",
    "Chancellor",
    "Secretary",
    "King",
    "Emir",
    "Sultan",
    "Prince",
)


def code_name(code: str, text: str) -> str:
    for s, e, c, k in _country_spans(text):
        if c == code and k != "capital":  # never a city ("Nairobi") as a party name
            return text[s:e]
    try:
        import pycountry

        c = pycountry.countries.get(alpha_3=code)
        if c is not None:
            return getattr(c, "common_name", None) or c.name
    except (KeyError, LookupError):
        pass
    return {"EUR": "European Union", "UNO": "United Nations", "NATO": "NATO"}.get(code, code)


def _resolve_initiator(ctx: _Ctx, who: str, text: str) -> str | None:
    low = who.lower()
    order = list(ctx.participants)
    if low.startswith(("the latter", "latter")) and len(order) >= 2:
        # the latter of the persons named in the sentence
        persons = [p for p in _persons(text) if p.code in ctx.participants]
        return persons[-1].code if persons else order[-1]
    if low.startswith(("the former", "former")) and order:
        persons = [p for p in _persons(text) if p.code in ctx.participants]
        return persons[0].code if persons else order[0]
    codes = _resolve_np(ctx, who)
    if codes and codes != {JOINT} and len(codes) == 1:
        return next(iter(codes))
    return None


# --- speaker resolution -------------------------------------------------------------------------
_PP_TAIL = re.compile(r"\s+(?:between|against|over|about|among|amongst)\s+")


def _resolve_np(ctx: _Ctx, np: str) -> set[str]:
    """Codes referred to by a noun phrase (or JOINT for all participants)."""
    np = np.strip(" ,")
    # "the Agreement between the European Union and Chile": a state inside a prepositional
    # modifier does not make the phrase a party
    np = _PP_TAIL.split(np, 1)[0].strip(" ,")
    if not np:
        return set()
    low = np.lower()
    low = re.sub(r"^(?:the|both|all)\s+(?=(?:two|three|four|both)\b)", "", low)
    words = low.replace("’", "'").split()
    if not words:
        return set()
    if ctx.first_person and low in ("i", "me", "myself"):
        return {ctx.issuer} if ctx.issuer else set()
    if low in ("they", "we", "both", "both of them", "the two", "the three", "each other"):
        if (
            low == "we"
            and not ctx.joint_doc
            and not ctx.first_person
            and ctx.issuer in ctx.participants
        ):
            return {ctx.issuer} if ctx.issuer else set()
        return {JOINT}
    if low in ("he", "she"):
        g = "m" if low == "he" else "f"
        last = ctx.last_single
        if last and ctx.gender.get(last, g) != g:
            # "The Crown Prince invited the Prime Minister ..., and she accepted": the pronoun's
            # gender rules out the last speaker; take the one other participant it fits
            fit = [c for c in ctx.participants if c != last and ctx.gender.get(c, g) == g]
            if len(fit) == 1:
                return {fit[0]}
        return {last} if last else set()
    out: set[str] = set()
    # conjuncts
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", np)
    if len(parts) > 1:
        for part in parts:
            r = _resolve_np(ctx, part)
            if r:
                out |= r
        if out:
            return out
    # countries and capitals
    for _s, _e, code, kind in _country_spans(np):
        if kind != "weak":
            out.add(code)
    # person names
    for tok in re.findall(r"[^\W\d_][\w'’-]*", np):
        t = _strip_tok(tok).lower()
        code = ctx.names.get(t)
        if code:
            out.add(code)
    if out:
        return out
    if (
        re.fullmatch(r"[A-ZÀ-Þ][\w'’-]+", np)
        and np not in _CAP_STOP
        and np not in _TITLE_WORDS
        and not any(t == low for t, _ in ctx.titles)  # "PM": a title, not a surname
    ):
        code = _surname_state(ctx, np)
        if code:
            return {code}
    last = words[-1].strip(".,")
    if last in _PLURAL_JOINT or last in _JOINT_NOUNS or words[0] in ("both", "two", "three"):
        return {JOINT}
    if low.startswith(("his ", "her ")) and ("counterpart" in low):
        others = [c for c in ctx.participants if c != ctx.last_single]
        return {others[0]} if len(others) == 1 else set()
    # titles of participants
    best: tuple[int, str] | None = None
    ambiguous = False
    for title, code in ctx.titles:
        if re.search(r"\b" + re.escape(title) + r"\b", low):
            if best is None or len(title) > best[0]:
                best, ambiguous = (len(title), code), False
            elif len(title) == best[0] and code != best[1]:
                ambiguous = True
    if best and not ambiguous:
        return {best[1]}
    m = re.fullmatch(r"(?:the\s+)?head of (state|government)", low)
    if m:
        # "The Head of State also congratulated ...": the participant holding that office
        pat = (
            r"\b(?:president|king|queen|emir|sultan|monarch|crown prince)\b"
            if m.group(1) == "state"
            else r"\b(?:prime minister|chancellor|premier|taoiseach)\b"
        )
        cands = {
            c
            for c, info in ctx.participants.items()
            if info.title
            and re.search(pat, info.title.lower())
            and "vice" not in info.title.lower()
        }
        if len(cands) == 1:
            return cands
        if ctx.issuer in cands and not ctx.joint_doc:
            return {ctx.issuer}
    if ctx.issuer in ctx.participants and not ctx.joint_doc:
        # the issuer's own official is "The President" / "His Excellency" in its own readout,
        # even when the counterpart holds the same title ("The President underscored ...")
        if ambiguous and len(words) <= 3 and (words[0] == "the" or len(words) == 1):
            cands = {c for t, c in ctx.titles if len(t) == best[0] and re.search(
                r"\b" + re.escape(t) + r"\b", low)} if best else set()
            if ctx.issuer in cands:
                return {ctx.issuer}
        if _EXCELLENCY.fullmatch(low):
            return {ctx.issuer}
    return set()


_EXCELLENCY = re.compile(r"(?:his|her) (?:excellency|highness|majesty|royal highness)")
# between a state and a name: "Sudan's Sovereign Council chief, General Omar Hassan " or
# "Ethiopian foreign ministry spokesman "
_STATE_TO_NAME = re.compile(r"(?:['’]s)?(?:,?\s+(?:[A-ZÀ-Þ][\w'’.-]*|[a-z][\w-]*)){1,10},?\s+$")
_ROLE_WORDS = frozenset(
    """
        chief head leader president minister premier envoy ruler spokesman spokeswoman
        spokesperson official general commander chairman chairwoman chair secretary
    """.split()
)


def _surname_state(ctx: _Ctx, name: str) -> str | None:
    """'Idris said ...': a bare surname first introduced right after a state ("Sudan's
    Sovereign Council chief, General Omar Hassan Idris") speaks for that state."""
    if name in ctx.surnames:
        return ctx.surnames[name] or None
    code = ""
    src = ctx.doc.source
    m = re.search(r"(?<![\w'’-])" + re.escape(name) + r"(?![\w'’-])", src)
    if m is not None and m.start() > 0 and src[m.start() - 1] == " ":
        win = src[max(0, m.start() - 90) : m.start()]
        for _s, e, c, kind in reversed(_country_spans(win)):
            gap = win[e:]
            if (
                kind in ("country", "demonym")
                and _STATE_TO_NAME.fullmatch(gap)
                and any(w.lower() in _ROLE_WORDS or w in _TITLE_WORDS for w in re.findall(
                    r"[\w'’-]+", gap))
                and not re.search(r"\b(?:and|or|with|about|on|to|from|by)\b", gap)
            ):
                code = c
            break
    ctx.surnames[name] = code
    return code or None


def _verb_at(toks: list[tuple[int, int, str]], i: int) -> tuple[str, str, bool, int] | None:
    """(lemma, kind, is_base, index after verb group) if a verb group starts at token i."""
    w = toks[i][2].lower().rstrip(".")
    nxt = toks[i + 1][2].lower() if i + 1 < len(toks) else ""
    nxt2 = toks[i + 2][2].lower() if i + 2 < len(toks) else ""
    if w in ("take", "takes", "took") and nxt == "stock":
        return ("take stock", "discuss", w == "take", i + 2)
    if w in ("has", "have", "had") and nxt:
        j = i + 1
        while j < len(toks) and toks[j][2].lower() in _ADVERBS:
            j += 1
        if j < len(toks):
            v = _verb_at(toks, j)
            if v and not v[2]:
                return v
        return None
    if w in _MODALS:
        return ("will", "commit", False, i + 1)
    if w in _BE and nxt in _READY:
        return ("ready", "commit", False, i + 2)
    if w in _BE and nxt in ("also",) and nxt2 in _READY:
        return ("ready", "commit", False, i + 3)
    f = _FORMS.get(w)
    if f is None:
        return None
    lemma, kind, base = f
    j = i + 1
    if lemma == "point":
        if nxt != "out":
            return None
        return ("point", "speech", base, i + 2)
    if lemma == "look":
        if nxt != "forward":
            return None
        return ("look forward", "stance", base, i + 2)
    if lemma == "call":
        if nxt in ("on", "upon"):
            return ("call on", "call", base, i + 2)
        if nxt == "for":
            return ("call for", "request", base, i + 2)
        return ("call", "narr", base, i + 1)
    if lemma in ("stand", "remain"):
        if nxt in _READY:
            return (lemma, "commit", base, i + 2)
        return None
    if lemma == "express" or lemma == "voice" or lemma == "convey" or lemma == "extend":
        # expressed (the/his/grave) hope(s)/concern/...
        k = i + 1
        while (
            k < len(toks)
            and k < i + 4
            and toks[k][2].lower()
            in (
                "the",
                "his",
                "her",
                "their",
                "its",
                "a",
                "deep",
                "grave",
                "strong",
                "serious",
                "sincere",
                "high",
                "great",
                "firm",
                "full",
                "warm",
                "profound",
            )
        ):
            k += 1
        if k < len(toks) and toks[k][2].lower() in _EXPRESS_NOUNS:
            return (lemma, "hope", base, k + 1)
        if k < len(toks) and toks[k][2].lower() == "that":
            return (lemma, "speech", base, i + 1)
        return (lemma, kind, base, j)
    if lemma in ("reiterate", "renew", "repeat", "reaffirm", "restate") and nxt in (
        "his", "her", "its", "their", "the", "a", "an"
    ):
        # "reiterated his call on X to ...", "renewed their appeal for ...": a request
        k = i + 2
        if k < len(toks) and toks[k][2].lower() in ("strong", "urgent", "earlier"):
            k += 1
        if (
            k + 1 < len(toks)
            and toks[k][2].lower() in ("call", "calls", "appeal", "appeals", "demand")
            and toks[k + 1][2].lower() in ("on", "upon", "to", "for")
        ):
            return ("call on", "call", base, k + 2)
    if kind == "speech" and nxt in ("his", "her", "its", "their") and nxt2 in _STANCE_NOUNS:
        # "affirmed their keenness to ...", "underlined his commitment to ...": a stance
        return (lemma, "stance", base, j)
    if lemma == "exchange" and nxt not in ("views", "opinions", "ideas", "greetings", "notes"):
        return None
    if lemma == "share" and nxt in ("the", "their", "a", "common"):
        # shared the view / understanding -> stance (agreement when joint)
        return ("share", "stance", base, j)
    if lemma in ("give", "make", "offer", "extend", "provide"):
        # "gave his assurance that ...", "made a firm commitment to ...": a noun of speech or
        # pledge after a light verb
        k = i + 1
        while k < len(toks) and k < i + 4 and toks[k][2].lower() in (
            "his", "her", "their", "its", "a", "an", "the", "firm", "full", "strong", "clear",
            "personal", "solemn", "every",
        ):
            k += 1
        noun = toks[k][2].lower() if k < len(toks) else ""
        if noun in ("assurance", "assurances", "guarantee", "guarantees"):
            return ("assure", "speech", base, k + 1)
        if noun in ("commitment", "pledge", "promise", "undertaking") and lemma in ("give", "make"):
            return ("pledge", "commit", base, k + 1)
    if lemma == "speak" and nxt in ("in", "out") and nxt2 in ("favour", "favor", "against"):
        # "spoke in favour of resolving conflicts ...", "spoke out against ...": a stance
        k = i + 3
        if k < len(toks) and toks[k][2].lower() == "of":
            k += 1
        return ("support", "stance", base, k)
    if lemma == "reach" or lemma == "make" or lemma == "take" or lemma == "give":
        return None
    if lemma == "hold":
        return ("hold", "narr", base, j)
    if lemma in ("inform", "brief", "update") and (
        nxt == "that" or (nxt2 == "that" and nxt in ("him", "her", "them", "counterpart"))
    ):
        # "Mr. Hasan informed that Malaysia was reviewing ...": reported content, not a topic
        return (lemma, "speech", base, j)
    if lemma == "explain" and nxt != "that":
        return ("explain", "discuss", base, j)
    if lemma in ("propose", "suggest", "recommend") and nxt not in ("that", "to"):
        # "proposed a plan": a stance; "proposed that X do / to do": a request
        return (lemma, "stance", base, j)
    if lemma == "witness":
        # "witnessed the signing of ...": a signed instrument; otherwise narration
        if "signing" not in (nxt, nxt2):
            return None
        return ("sign", "agree", base, j)
    if lemma == "accept":
        # "accepted the invitation / the proposal": agreeing to the other side's offer
        obj = {t[2].lower().rstrip(".,") for t in toks[i + 1 : i + 5]}
        if obj & {"invitation", "proposal", "offer", "suggestion", "proposals", "invitations"}:
            return ("accept", "agree", base, j)
        return None
    if lemma == "announce" and nxt == "the" and nxt2 in ("decision", "deal", "news", "outcome"):
        return ("announce", "discuss", base, j)  # "announced the decision at a news conference"
    if lemma == "seek" and nxt == "to":
        return ("seek", "commit", base, j)
    return (lemma, kind, base, j)


_STANCE_NOUNS = frozenset(
    """
        keenness readiness commitment determination desire willingness eagerness support
        resolve interest intention wish aspiration opposition rejection condemnation
        appreciation gratitude concern concerns
    """.split()
)


@dataclass
class _SV:
    speakers: set[str]
    subj_start: int
    verb_start: int
    verb_end: int  # source offset after the verb group
    lemma: str
    kind: str
    target: tuple[str, ...] = ()  # the passive subject asked to act ("X was urged to ...")


_PASSIVE_REQUEST = frozenset(
    "urged asked requested encouraged invited pressed called implored exhorted".split()
)


def _subject_verb(ctx: _Ctx, a: int, b: int, *, content: bool = False) -> _SV | None:
    """A party subject followed by a verb group at source[a:b], or None."""
    src = ctx.doc.source
    text = src[a:b]
    toks = _tokens(text, a)
    skip: set[int] = set()
    for i, (s, _e, w) in enumerate(toks[:24]):
        lw = w.lower().rstrip(".")
        if i in skip:
            continue
        if (
            lw in ("for", "on")
            and i > 0
            and i + 2 < len(toks)
            and toks[i + 1][2].lower() in ("his", "her", "its", "their")
            and toks[i + 2][2].lower() in ("part", "side")
        ):
            skip.update((i + 1, i + 2))  # "Arslan, for his part, insisted"
            continue
        if i > 0 and (lw in _SHOULD or (lw == "ought")):
            if not content:
                return None
            subj = src[a:s]
            codes = _resolve_np(ctx, _trim_subject(subj))
            if not codes:
                return None
            return _SV(codes, a, s, s, "should", "should")
        if i > 0 and lw in ("was", "were") and i + 2 < len(toks):
            # "Van Klaveren was urged to consider ...": the party asked is the subject; the
            # asking party is the one other participant
            k = i + 1
            if toks[k][2].lower() in ("also", "further", "again", "strongly"):
                k += 1
            part = toks[k][2].lower() if k < len(toks) else ""
            nxt = [t[2].lower() for t in toks[k + 1 : k + 3]]
            if part in _PASSIVE_REQUEST and (
                nxt[:1] == ["to"] or (part == "called" and nxt[:1] in (["on"], ["upon"])
                                      and nxt[1:2] == ["to"])
            ):
                subj = _trim_subject(src[a:s])
                codes = _resolve_np(ctx, subj) if subj else set()
                exp = _expand(ctx, codes) if codes and JOINT not in codes else ()
                others = [c for c in ctx.participants if c not in exp]
                if len(exp) == 1 and exp[0] in ctx.participants and len(others) == 1:
                    vend = toks[k + 1][1] if part == "called" else toks[k][1]
                    return _SV({others[0]}, a, a, vend, "urge", "request", exp)
            return None
        v = _verb_at(toks, i) if i > 0 and w[:1].islower() else None
        if v is not None and toks[i - 1][2].lower() == "and":
            return None
        if v is not None:
            lemma, kind, base, after = v
            subj = _trim_subject(src[a:s])
            if not subj:
                return None
            codes = _resolve_np(ctx, subj)
            if not codes:
                return None
            if (
                base
                and JOINT not in codes
                and len(codes) < 2
                and subj.lower() not in ("we", "they")
                and not (subj == "I" and ctx.first_person)
                and not subj.lower().endswith("s")
            ):
                return None  # "The call ...": a base form after a singular subject is no verb
            # perfect-tense reporting is background ("Seoul has said")
            if _PERFECT_REPORT.match(src[s : s + 40]):
                return _SV(codes, a, s, s, lemma, "background")
            vend = toks[after - 1][1] if after - 1 < len(toks) else toks[-1][1]
            return _SV(codes, a, s, vend, lemma, kind)
        if i == 0:
            if not (_is_cap(w) or lw in _SUBJ_LOWER_OK or lw in ("he", "she", "they", "we")):
                return None
            continue
        if w in (",", "(", ")", "/", "'s", "’s", '"', "“"):
            continue  # 'Putin "reaffirmed ...': a quote opening between subject and verb
        if lw in _TIME_WORDS or (
            lw in ("on", "this", "last", "earlier", "later")
            and i + 1 < len(toks)
            and (
                toks[i + 1][2] in _CAP_STOP
                or toks[i + 1][2][:1].isdigit()
                or toks[i + 1][2].lower() in ("week", "month", "year", "day")
            )
        ):
            continue  # a time adjunct between subject and verb ("Egypt on Wednesday urged")
        if _is_cap(w) or lw in _SUBJ_LOWER_OK or lw in _ADVERBS or lw.endswith("ly"):
            continue
        if _PARTICLE_NAME.match(_strip_tok(w)):
            continue  # "Prime Minister al-Sudani"
        return None
    return None


_APPOSITIVE = re.compile(
    r"([A-ZÀ-Þ][^,;]{0,60}?),\s+(?:(?:(?:also|who is|currently|concurrently)\s+)?(?:a|an|the)"
    r"|who|whose|which)\s+[^,;\"“”]{3,160},\s+"
)


def _appositive_subject(ctx: _Ctx, a: int, b: int) -> _SV | None:
    """'Wang, also a member of the Political Bureau ..., said that ...': apposition, then verb."""
    src = ctx.doc.source
    m = _APPOSITIVE.match(src, a, b)
    if m is None:
        return None
    codes = _resolve_np(ctx, _trim_subject(m.group(1)))
    if not codes:
        return None
    toks = _tokens(src[m.end() : b], m.end())
    k = 0
    while k < len(toks) and toks[k][2].lower() in _ADVERBS:
        k += 1
    if k >= len(toks) or not toks[k][2][:1].islower():
        return None
    if toks[k][2].lower() in ("has", "have", "had") and _PERFECT_REPORT.search(
        src[toks[k][0] : b].lower()[:40]
    ):
        return None  # "Israel, which launched ..., has said it will ...": background
    v = _verb_at(toks, k)
    if v is None or v[2]:
        return None
    lemma, kind, _base, after = v
    vend = toks[after - 1][1] if after - 1 < len(toks) else toks[-1][1]
    return _SV(codes, a, toks[k][0], vend, lemma, kind)


_TIME_WORDS = frozenset({"today", "yesterday", "tonight"})
_TIME_ADJUNCT = re.compile(
    r"\s+(?:(?:on|this|last|earlier|later)\s+(?:[A-Z][a-z]+|\d[\w,]*|week|month|year|day)"
    r"(?:\s+\d{1,2})?|today|yesterday|tonight)$"
)


def _trim_subject(subj: str) -> str:
    subj = _TIME_ADJUNCT.sub("", subj.strip(" ,"))
    words = subj.strip(" ,").split()
    keep = 1 if words and words[0].lower() == "both" else 0  # "Both agreed": keep the subject
    while len(words) > keep and (
        words[-1].lower() in _ADVERBS
        or (words[-1].lower().endswith("ly") and words[-1][:1].islower())
    ):
        words.pop()
    if len(words) >= 2 and words[-2].lower() == "in" and words[-1].lower() == "turn":
        words = words[:-2]
    return " ".join(words).strip(" ,")


# --- sentence analysis --------------------------------------------------------------------------
def _strip_prefix(text: str) -> str:
    """Drop list markers and a news dateline from the start of a sentence."""
    t = text
    m = _LIST_MARK.match(t)
    if m:
        t = t[m.end() :]
    m = _DATELINE.match(t)
    if m:
        t = t[m.end() :]
    return t


def _paragraph_break(ctx: _Ctx, prev: Sentence, cur: Sentence) -> bool:
    return "\n" in ctx.doc.source[prev.end : cur.start]


def _find_items(ctx: _Ctx, headings: list[bool]) -> None:
    sents = ctx.doc.sentences
    carry: set[str] | None = None  # speaker of reported speech carried over in a paragraph
    prev: Sentence | None = None
    list_subj: set[str] | None = None  # "The two sides:" followed by verb-initial bullets
    pending: list[Sentence] = []  # open quotes waiting for their speaker
    quote_of: set[str] | None = None  # a quoted paragraph after 'X said:'
    list_verb: _SV | None = None  # "the two leaders agreed to:" followed by bullets
    list_mark: str | None = None  # the marker kind of the open list's first item
    for s, h in zip(sents, headings, strict=True):
        mark = _mark_kind(s.text)
        same_list = mark is not None and list_mark in (None, mark)
        if list_subj is not None and same_list and _list_item(ctx, s, list_subj):
            carry, prev, list_mark = None, s, mark
            continue
        if list_verb is not None and same_list:
            _list_verb_item(ctx, s, list_verb)
            carry, prev, list_mark = None, s, mark
            continue
        list_verb = None
        list_subj = None
        list_mark = None
        if s.text.rstrip().endswith(":"):
            # "The two Ministers agreed (to):" + bullets: the verb's content is the list; a head
            # without a verb ("The two sides:") is the subject of verb-initial bullets
            list_verb = _list_verb_head(ctx, s)
            if list_verb is not None:
                carry, prev = None, s
                continue
            list_subj = _list_subject(ctx, s)
        t = _strip_prefix(s.text).lstrip()
        if ctx.joint_doc and _PREAMBLE.match(t) and t.rstrip().endswith(","):
            # a joint text's preamble paragraph ("Recognizing the historic ties ...,",
            # "Reaffirming the principles of ...,"): a view all signatories share
            pa = s.start + (len(s.text) - len(t))
            pb = s.end
            while pb > pa and ctx.doc.source[pb - 1] in " ,;":
                pb -= 1
            span = clause_span(ctx.doc, pa, pb)
            if span.sentence == s.index and len(ctx.participants) >= 2:
                ctx.items.append(
                    _Item("agreement", _all(ctx), (), span.start, span.end, "shared_view")
                )
            carry, prev = None, s
            continue
        if h:
            carry, prev = None, s
            continue
        t = _strip_prefix(s.text).lstrip()
        if prev is not None and _paragraph_break(ctx, prev, s):
            # 'the Tánaiste said:' + a quoted paragraph: the quote is the speaker's own words
            quote_of = None
            if t[:1] in ("“", '"') and prev.text.rstrip().endswith(":"):
                quote_of = _colon_speaker(ctx, prev)
            carry = None
            pending = []
        prev = s
        ctx.cur_sentence = s.index
        if quote_of is not None:
            qa, qb = _trim_quotes(ctx.doc.source, s.start + (len(s.text) - len(t)), s.end)
            if qb > qa:
                _process_content(ctx, s, quote_of, "speech", "say", qa, qb)
            carry = quote_of
            if re.search(r"[”\"]\s*$", t):
                quote_of = None
            continue
        if t[:1] in ("“", '"') and not re.search(r"[”\"]", t[1:]):
            # '“We have chosen dialogue. The Aegean should be ...,” Arslan said.': the opening
            # sentence of a multi-sentence quote waits for the speaker named after it
            pending.append(s)
            continue
        carry = _analyse_sentence(ctx, s, carry)
        for q in pending:
            if carry and JOINT not in carry and len(carry) == 1:
                qa = q.start + max(q.text.find("“"), q.text.find('"')) + 1
                qb = q.end
                while qb > qa and ctx.doc.source[qb - 1] in " .;:":
                    qb -= 1
                _process_content(ctx, q, carry, "speech", "say", qa, qb)
            else:
                _analyse_sentence(ctx, q, None)
        pending = []
    for q in pending:
        _analyse_sentence(ctx, q, None)


_PREAMBLE = re.compile(
    r"(?:[A-Z][a-z]+ing|(?:Deeply\s+)?(?:Convinced|Concerned|Determined|Mindful|Aware|Guided|"
    r"Committed|Conscious|Encouraged|Inspired))\s+(?:that\s+|of\s+|by\s+|to\s+)?[a-z]"
)
_LIST_VERB_TAIL = re.compile(
    r"\s*(?:to|that|on|upon|(?:to\s+(?:pursue|take|undertake|implement|work\s+on)\s+)?"
    r"(?:the following|as follows|(?:the\s+)?following\s+\w+))?\s*:?\s*$"
)


def _mark_kind(text: str) -> str | None:
    """The kind of a list item's marker ("num", "alpha" or the bullet character), or None.

    A list runs while its items keep the first item's kind: "- to hold ..." bullets end at the
    next numbered paragraph ("4. Minister Cho ...")."""
    m = _LIST_MARK.match(text)
    if m is None:
        return None
    mark = m.group().strip()
    if any(c.isdigit() for c in mark):
        return "num"
    if mark[:1].isalpha() or mark[1:2].isalpha():
        return "alpha"
    return mark[:1]


def _list_verb_head(ctx: _Ctx, s: Sentence) -> _SV | None:
    """'At the end of the meeting, the two leaders agreed to:': a verb whose content is the
    bullet list that follows."""
    src = ctx.doc.source
    a = s.start + (len(s.text) - len(_strip_prefix(s.text)))
    b = s.end
    a = _skip_openers(ctx, a, b)
    m = _PASSIVE_AGREED.search(src, a, b)
    if m is not None and len(ctx.participants) >= 2:
        # "During the meeting, the following was agreed:": the participants agreed the list
        return _SV({JOINT}, m.start(), m.start(), m.end(), "agree", "agree")
    sv = _subject_verb(ctx, a, b)
    if sv is None or sv.kind in ("narr", "discuss", "background", "should"):
        return None
    if not _LIST_VERB_TAIL.fullmatch(src, sv.verb_end, b):
        return None
    return sv


_PASSIVE_AGREED = re.compile(
    r"\b(?:the\s+following|it)\s+(?:was|were|has\s+been|have\s+been)\s+"
    r"(?:agreed(?:\s+upon)?|decided)(?=\s*:\s*$)"
)


def _list_verb_item(ctx: _Ctx, s: Sentence, sv: _SV) -> None:
    src = ctx.doc.source
    stripped = _strip_prefix(s.text)
    m = _LIST_MARK.match(stripped)
    a = s.start + (len(s.text) - len(stripped)) + (m.end() if m else 0)
    b = s.end
    while True:
        while b > a and src[b - 1] in " .;:,":
            b -= 1
        if src[a:b].endswith((" and", " or")):
            b -= 3 if src[a:b].endswith(" or") else 4
            continue
        break
    if b <= a:
        return
    _process_main(ctx, s, _SV(sv.speakers, a, a, a, sv.lemma, sv.kind), b)


def _colon_speaker(ctx: _Ctx, s: Sentence) -> set[str] | None:
    """'Speaking after the call, the Tánaiste said:': the one speaker of the quote that follows."""
    src = ctx.doc.source
    b = s.end
    while b > s.start and src[b - 1] in " :":
        b -= 1
    a = s.start
    m = re.match(r"(?:Speaking|Commenting|Writing)\b[^,;:]{0,80},\s*", src[a:b])
    if m:
        a += m.end()
    a = _skip_openers(ctx, a, b)
    sv = _subject_verb(ctx, a, b)
    if sv is None or sv.kind != "speech" or sv.verb_end < b - 12:
        return None
    sp = {c for c in sv.speakers if c != JOINT}
    return sp if len(sp) == 1 and JOINT not in sv.speakers else None


_LIST_HEAD = re.compile(r"^\s*([A-Z][^:;,.]{1,80}?)\s*(?:have|has|will|)\s*:\s*$")


def _list_subject(ctx: _Ctx, s: Sentence) -> set[str] | None:
    """'The two sides:' / 'President X and Prime Minister Y:': the subject of a bullet list."""
    m = _LIST_HEAD.match(s.text)
    if m is None:
        return None
    codes = _resolve_np(ctx, _trim_subject(m.group(1)))
    return codes or None


def _list_item(ctx: _Ctx, s: Sentence, codes: set[str]) -> bool:
    """'- Agreed to ...', '- Reaffirmed ...': a verb-initial bullet under a list subject."""
    src = ctx.doc.source
    stripped = _strip_prefix(s.text)
    a = s.start + (len(s.text) - len(stripped))
    b = s.end
    while b > a and src[b - 1] in " .;:":
        b -= 1
    toks = _tokens(src[a:b], a)
    k = 0
    while k < len(toks) - 1 and (
        toks[k][2].lower() in _ADVERBS or toks[k][2].lower().endswith("ly")
    ):
        k += 1  # "- strongly opposed ...", "- also agreed ..."
    if not toks:
        return False
    v = _verb_at(toks, k)
    if v is None:
        return False
    lemma, kind, _base, after = v
    vend = toks[after - 1][1] if after - 1 < len(toks) else toks[-1][1]
    _process_main(ctx, s, _SV(codes, a, a, vend, lemma, kind), b)
    return True


def _analyse_sentence(ctx: _Ctx, s: Sentence, carry: set[str] | None) -> set[str] | None:
    src = ctx.doc.source
    text = s.text
    stripped = _strip_prefix(text)
    a = s.start + (len(text) - len(stripped))
    b = s.end
    while b > a and src[b - 1] in " .;:":
        b -= 1
    # trailing attribution to the issuer's reporter ("..., the ministry said")
    region = src[a:b]
    m = None
    for m_ in _ATTRIB_TAIL.finditer(region):
        m = m_
        break
    if m is not None and m.start() > 0:
        b = a + m.start()
    return _analyse_span(ctx, s, a, b, carry)


def _trim_quotes(src: str, a: int, b: int) -> tuple[int, int]:
    while a < b and src[a] in " \"“”’'":
        a += 1
    while b > a and src[b - 1] in " .,;:\"“”’'":
        b -= 1
    return a, b


# "Yoon said (in a statement) that ...", "According to Yoon, ...", "Asked whether ..., Yoon said
# ...": a briefer who is no party reports the participants' own words
_REPORTER_LEAD = re.compile(
    r"(?:Asked\b[^,;]{0,160},\s*)?"
    r"(?:According to\s+(?P<acc>[^,;:\"“”]{1,80}?),\s*"
    r"|(?P<who>[A-ZÀ-Þ][^;:\"“”]{0,100}?)\s+(?:said|added|noted|stated|explained|told\s+"
    r"(?:reporters|journalists|the (?:press|media)))(?:\s+(?:in|at|during)\s+(?:a|an|the|his|her)"
    r"\s+(?:statement|briefing|news conference|press conference|release|post|interview)\b)?"
    r"(?:\s+on \w+)?,?\s+(?:that\s+)?)"
)


def _reporter_lead(ctx: _Ctx, a: int, b: int) -> int | None:
    src = ctx.doc.source
    m = _REPORTER_LEAD.match(src, a, b)
    if m is None:
        return None
    who = m.group("acc") or m.group("who")
    if _resolve_np(ctx, _trim_subject(who)):
        return None
    pos, _ = _trim_quotes(src, m.end(), b)
    if _subject_verb(ctx, pos, b) is None and _subject_verb(ctx, pos, b, content=True) is None:
        return None
    return pos


def _analyse_span(
    ctx: _Ctx, s: Sentence, a: int, b: int, carry: set[str] | None, depth: int = 0
) -> set[str] | None:
    src = ctx.doc.source
    text = s.text
    pos = _reporter_lead(ctx, a, b)
    if pos is not None:
        a = pos
    # leading openers ("In particular,", "During the call,") and conjunctions
    a = _skip_openers(ctx, a, b)
    if a >= b:
        return carry
    # 1) participle opener: "Noting that X, Ebrard said Y"
    first = src[a:b].split(" ", 1)[0].lower()
    if first in _PARTICIPLES:
        done = _participle_opener(ctx, s, a, b, first)
        if done is not _UNHANDLED:
            return done
    # 1b) "According to X, ...": X's reported view
    m = _ACCORDING.match(src, a, b)
    if m is not None:
        codes = _resolve_np(ctx, m.group(1))
        if codes:
            _set_last(ctx, codes)
            _process_content(ctx, s, codes, "speech", "say", m.end(), b)
            return codes
    # 2) trailing speaker: "X, Wang said(, adding that Y)"
    done = _trailing_speaker(ctx, s, a, b, depth)
    if done is not _UNHANDLED:
        return done
    # 3) subject + verb
    sv = _subject_verb(ctx, a, b) or _appositive_subject(ctx, a, b)
    if sv is not None:
        m = re.match(r"\s*For (his|her) part\b", text)
        if m:
            _learn_gender(ctx, sv.speakers, m.group(1))
        res = _process_main(ctx, s, sv, b)
        if (
            res is None
            and carry
            and JOINT not in carry
            and sv.kind not in ("narr", "discuss", "background")
            and sv.speakers == carry
        ):
            # "Zhao said ... China stands ready to ... The two sides should ...": the speaker's
            # own country as subject continues the reported speech
            return carry
        return res
    # 3b) "The call addressed ..., where the two leaders affirmed ...": a joint subject later in
    # the sentence
    for m in _EMBEDDED_JOINT.finditer(src, a, b):
        sv = _subject_verb(ctx, m.start(1), b)
        if sv is not None and sv.kind not in ("narr", "discuss", "background", "speech"):
            _process_main(ctx, s, sv, b)
            return None
    # 4) unattributed: communiqué voice, carried speech, or narration/background
    return _unattributed(ctx, s, a, b, carry)


_EMBEDDED_JOINT = re.compile(
    r"(?:,\s*|\b(?:where|as|while|when|and|with)\s+)((?:the|both)\s+(?:two\s+|three\s+)?"
    r"(?:leaders|sides|ministers|presidents|parties|delegations|countries|heads of state|"
    r"prime ministers|foreign ministers)|both)\s+(?=[a-z])"
)


def _skip_openers(ctx: _Ctx, a: int, b: int) -> int:
    src = ctx.doc.source
    for _ in range(4):
        seg = src[a:b]
        m = _OPENER.match(seg)
        if m and m.end() < len(seg):
            # only if what follows still makes sense as a clause start
            a += m.end()
            continue
        m = _LEAD_CONJ.match(seg)
        if m:
            a += m.end()
            continue
        break
    return a


_UNHANDLED: set[str] = {"<unhandled>"}


def _participle_opener(ctx: _Ctx, s: Sentence, a: int, b: int, first: str) -> set[str] | None:
    src = ctx.doc.source
    for cm in _COMMA.finditer(src[a:b]):
        pos = a + cm.end()
        sv = _subject_verb(ctx, pos, b)
        if sv is None:
            continue
        speakers = sv.speakers
        kind = _PARTICIPLES[first]
        # opener item
        ostart = a + len(first)
        if first == "pointing" and src[ostart : ostart + 4] == " out":
            ostart += 4
        opener = src[ostart : a + cm.start()].strip()
        if not _courtesy_opener(ctx, first, opener):
            _emit_clause(ctx, s, speakers, kind, first, ostart, a + cm.start(), verb_start=a)
        return _process_main(ctx, s, sv, b)
    return _UNHANDLED


_VISITOR_NP = re.compile(
    r"(?:the\s+|his\s+|her\s+|their\s+)?(?:[A-ZÀ-Þ][\w.'’-]*\s*)+"
    r"(?:delegation|counterpart|guest|guests|visitor|visitors)?"
)


def _courtesy_opener(ctx: _Ctx, first: str, opener: str) -> bool:
    """'Welcoming the Vietnamese delegation, ...': greeting the visitor; 'Recalling the
    Partnership established in 2013, ...': a reference to history. Neither is a statement."""
    if first == "welcoming" and re.fullmatch(
        r"(?:the|his|her|their|our)\s+(?:visiting\s+|high-level\s+)?"
        r"(?:delegation|delegations|guest|guests|visitor|visitors|counterpart)",
        opener,
    ):
        return True  # "Welcoming the delegation, ..."
    if first == "welcoming" and _VISITOR_NP.fullmatch(opener):
        codes = _resolve_np(ctx, opener)
        return bool(codes) and (JOINT in codes or bool(codes & set(ctx.participants)))
    if first in ("recalling", "remembering") and not ctx.joint_doc:
        return not re.match(r"(?:that|how)\b", opener)
    return False


def _trailing_speaker(
    ctx: _Ctx, s: Sentence, a: int, b: int, depth: int = 0
) -> set[str] | None:
    src = ctx.doc.source
    region = src[a:b]
    commas = list(_COMMA.finditer(region))
    for cm in reversed(commas):
        if cm.start() < 8:
            continue
        pos = a + cm.end()
        toks = _tokens(src[pos:b], pos)
        # '"...," said Minister Retno.' (verb first) or '"...," Pezeshkian was quoted as saying.'
        inv = _INVERTED.fullmatch(src[pos:b])
        if inv is not None and _LOWER_WORD.search(inv.group(1)):
            inv = None
        speaker = inv or _QUOTED_AS.fullmatch(src, pos, b)
        if speaker is not None:
            codes = _resolve_np(ctx, _trim_subject(speaker.group(1)))
            if codes and (len(codes) == 1 or JOINT in codes):
                _process_content(ctx, s, codes, "speech", "say", a, a + cm.start())
                _set_last(ctx, codes)
                return codes if JOINT not in codes else {JOINT}
        # find the report verb within 8 tokens
        for i, (ts, te, w) in enumerate(toks[:9]):
            lw = w.lower().rstrip(".")
            if lw not in _REPORT_VERBS or i == 0:
                continue
            subj = _trim_subject(src[pos:ts])
            after = src[te:b]
            if lw == "pointed" and after.startswith(" out"):
                after = after[4:]
                te += 4
            tail = re.match(
                r"^(?:\s+in (?:a|an|the|his|her|their) [\w ]{1,30}?(?=,))?"
                r",?\s*(adding|noting|stressing|saying|expressing|underlining|"
                r"emphasi[sz]ing|reiterating|calling|urging|pointing out|"
                r"highlighting|stating)\b\s*(?:that\s+)?",
                after,
            )
            rest_ok = (
                tail is not None
                or re.fullmatch(
                    r"\s*(?:in (?:a|an|the|his|her|their) [\w ]{1,30})?\s*[.\"”’)]*\s*", after
                )
                or _SPEECH_SETTING.match(after)
            )
            if not rest_ok:
                break
            codes = _resolve_np(ctx, subj)
            if (
                not codes
                and ctx.last_single
                and ctx.last_at == s.index - 1
                and _ROLE_SPEAKER.fullmatch(subj)
                and not _paragraph_break(ctx, ctx.doc.sentences[s.index - 1], s)
            ):
                # 'Ethiopia rejected the statement. "...," foreign ministry spokesman Getachew
                # Alemu said': a spokesperson of no named state speaks for the state just named
                codes = {ctx.last_single}
            if not codes:
                if (
                    re.fullmatch(r"[A-ZÀ-Þ][\w'’.-]*(?:\s+[A-ZÀ-Þ][\w'’.-]*){0,3}", subj)
                    and depth < 2
                ):
                    # '"President Han called on ...," Yoon said, adding that ...': a briefer
                    # who is no party; the reported clauses carry their own speakers
                    ca, cb = _trim_quotes(src, a, a + cm.start())
                    res = _analyse_span(ctx, s, ca, cb, None, depth + 1)
                    if tail is not None:
                        ta, tb = _trim_quotes(src, te + tail.end(), b)
                        res = _analyse_span(ctx, s, ta, tb, None, depth + 1)
                    return res
                break
            # content before the comma
            cend = a + cm.start()
            if depth < 2 and src[a:cend].lstrip()[:1] not in ("“", '"'):
                inner = _subject_verb(ctx, a, cend)
                if inner is not None and (
                    inner.kind in ("narr", "discuss", "agree") or JOINT in inner.speakers
                ):
                    # "Putin and Pezeshkian discussed ..., the Kremlin said", "The two leaders
                    # agreed to ..., the ministry said": the source reports the contact or a
                    # joint act; the clause's own subject and verb decide what it is
                    res = _analyse_span(ctx, s, a, cend, None, depth + 1)
                    _set_last(ctx, inner.speakers)
                    return res
            _process_content(ctx, s, codes, "speech", "say", a, cend)
            if tail is not None:
                tstart = te + tail.end()
                tkind = _PARTICIPLES.get(tail.group(1).split()[0], "speech")
                _set_last(ctx, codes)
                _split_and_emit(ctx, s, codes, tkind, tail.group(1), tstart, b)
            _set_last(ctx, codes)
            return codes if JOINT not in codes else {JOINT}
    return _UNHANDLED


_QUOTED_AS = re.compile(
    r"\s*((?:the\s+)?[A-ZÀ-Þ][^,;:\"“”]{1,60}?)\s+(?:was|were)\s+(?:also\s+)?quoted\s+as\s+"
    r"(?:saying|telling\s+[^,;:\"“”]{1,40})\s*[.\"”’)]*\s*"
)
_ROLE_SPEAKER = re.compile(
    r"(?:(?:the|a|an|its|their)\s+)?(?:[Ff]oreign\s+|[Dd]efen[cs]e\s+)?"
    r"(?:[Mm]inistry\s+|[Gg]overnment\s+|[Pp]residential\s+|[Ff]oreign [Oo]ffice\s+)?"
    r"(?:spokes(?:man|woman|person)|Spokes(?:man|woman|person)|official)"
    r"(?:\s+[A-ZÀ-Þ][\w'’.-]*){0,3}"
)


# '"...," X told reporters after the meeting': the audience and setting of the quoted speech
_SPEECH_SETTING = re.compile(
    r"\s*(?:(?:reporters|journalists|the (?:press|media|news agency)|(?:a|the) (?:joint )?"
    r"(?:news|press) conference|(?:a|an|the) (?:briefing|interview|press briefing))\b\s*)?"
    r"(?:,\s*)?(?:after|before|during|following|at|on|when|while|upon)\b[^,;:\"“”]{0,160}"
    r"[.\"”’)]*\s*$"
    r"|\s*(?:reporters|journalists|(?:a|the) (?:joint )?(?:news|press) conference)"
    r"\s*[.\"”’)]*\s*$"
    # '"...," Jaishankar told Lavrov in his opening remarks, pointing to ...': the addressee,
    # the occasion and a participle aside
    r"|\s*(?:his|her|their) counterparts?\b[^,;:\"“”]{0,80}[.\"”’)]*\s*$"
    r"|\s*[A-ZÀ-Þ][\w'’.-]*(?:\s+[A-ZÀ-Þ][\w'’.-]*){0,2}"
    r"(?:\s+in\s+(?:his|her|their|the)\s+(?:opening\s+|closing\s+)?"
    r"(?:remarks|statement|speech|address))?"
    r"(?:,\s*(?:pointing to|citing|referring to)\b[^;:\"“”]{0,160})?[.\"”’)]*\s*$"
)


_INVERTED = re.compile(
    r"\s*(?:said|added|stressed|noted|stated|explained|emphasi[sz]ed|underlined|remarked|"
    r"continued|concluded|insisted|warned|replied|responded|observed)\s+"
    r"((?:the\s+)?[A-ZÀ-Þ][^,;:\"“”]{1,80}?)\s*[.\"”’)]*\s*"
)
# "said Portugal would open ...": a clause, not an inverted speaker
_LOWER_WORD = re.compile(
    r"\b(?!(?:of|the|and|for|de|da|del|dos|al|el|bin|ibn|van|von|le|la|on|affairs)\b)[a-z]{2,}"
)
_ACCORDING = re.compile(r"According to\s+((?:the\s+)?[A-ZÀ-Þ][^,;:]{1,60}?),\s+")


def _set_last(ctx: _Ctx, codes: set[str]) -> None:
    if len(codes) == 1 and JOINT not in codes:
        ctx.last_single = next(iter(codes))
        ctx.last_at = ctx.cur_sentence


def _learn_gender(ctx: _Ctx, codes: set[str], text: str) -> None:
    """'X expressed her appreciation', 'For his part, X ...': the official's pronoun gender."""
    if len(codes) != 1 or JOINT in codes:
        return
    m = _GENDER_CUE.search(text)
    if m:
        ctx.gender.setdefault(next(iter(codes)), "m" if m.group(1).lower() == "his" else "f")


_GENDER_CUE = re.compile(r"^\s*(?:[a-z]+ly\s+)?(his|her)\b", re.I)
_MALE_TITLES = frozenset("King Prince Emir Sultan Sheikh Mr Mr. Lord Sir Monsieur Duke His".split())
_FEMALE_TITLES = frozenset(
    "Queen Princess Sheikha Ms Ms. Mrs Mrs. Madam Mme Baroness Lady Her Madame".split()
)


def _process_main(ctx: _Ctx, s: Sentence, sv: _SV, b: int) -> set[str] | None:
    src = ctx.doc.source
    if sv.kind == "background":
        return None
    if sv.lemma in ("sign", "agree", "conclude") and _past_year(ctx, src[sv.verb_end : b]):
        return None  # "Poland signed a framework agreement with Korea in 2022": background
    if sv.target:
        _emit_clause(
            ctx,
            s,
            sv.speakers,
            sv.kind,
            sv.lemma,
            sv.verb_end,
            b,
            verb_start=sv.verb_start,
            subj_start=sv.subj_start,
            target=sv.target,
        )
        _set_last(ctx, set(sv.target))
        return None
    _learn_gender(ctx, sv.speakers, src[sv.verb_end : sv.verb_end + 20])
    _set_last(ctx, sv.speakers)
    start = sv.verb_end
    if sv.kind in ("speech",) or (sv.kind == "hope"):
        m = (
            _THAT.match(src[start:b])
            or _OBJECT_THAT.match(src[start:b])
            or (_SETTING_THAT.match(src[start:b]) if sv.kind == "speech" else None)
        )
        if m:
            start += m.end()
    if sv.kind == "speech" and JOINT not in sv.speakers:
        # "a UN spokesperson said the UN chief encouraged both governments to ...": the
        # reported clause has its own verb and the same speaker
        inner = _subject_verb(ctx, start, b)
        if (
            inner is not None
            and inner.speakers == sv.speakers
            and inner.kind in ("request", "call")
            and inner.verb_start - start < 60
            and _content_request(ctx, src[start:b], _expand(ctx, sv.speakers), "speech") is None
        ):
            _process_main(ctx, s, inner, b)
            return sv.speakers
    # evidence for non-speech verbs includes the verb
    _split_and_emit(
        ctx,
        s,
        sv.speakers,
        sv.kind,
        sv.lemma,
        start,
        b,
        verb_start=sv.verb_start,
        subj_start=sv.subj_start,
    )
    if sv.kind == "speech":
        return sv.speakers
    return None if sv.kind in ("narr", "discuss") else _carry_for(sv)


# "said after talks with Sudan's ... Idris, that Egypt would ...": the setting before "that"
_SETTING_THAT = re.compile(
    r"\s*(?:after|following|during|at|before|ahead of|on the sidelines of)\s+"
    r"[^\"“”;:]{3,160}?,?\s+that\s+"
)


_YEAR = re.compile(r"\b(?:in|since)\s+((?:19|20)\d\d)\b")


def _past_year(ctx: _Ctx, text: str) -> bool:
    m = _YEAR.search(text)
    if m is None or re.search(r"\b(?:will|would|shall|by)\b", text):
        return False
    date = str(dict(ctx.doc.metadata).get("date", "") or "")
    y = re.match(r"\d{4}", date)
    return bool(y) and int(m.group(1)) < int(y.group(0))


def _carry_for(sv: _SV) -> set[str] | None:
    return sv.speakers if sv.kind in ("speech", "stance", "hope") else None


# ", and a ground offensive would be catastrophic": a new clause with its own (non-party) subject
_NEW_CLAUSE = re.compile(
    r"(?:(?:a|an|the|this|that|these|those|such|any|no|its|their|our)\s+"
    r"(?:(?!(?:and|or|to|that|which|who)\b)[\w'’-]+\s+){0,6}?|there\s+|it\s+)"
    r"(?:would|will|is|are|was|were|remains?|can|could|must|may|might)\s+(?!be\s+\w+ed\b)"
)


# '"We are not against X, but we demand that ...": a second statement in quoted speech
_PRONOUN_CLAUSE = re.compile(
    r"(?:we|I)\s+(?:also\s+|strongly\s+|firmly\s+)?(?:demand|urge|ask|call on|insist|expect|"
    r"want|will|would|cannot|can\s*not|do not|don't|won't|must|believe|hope|reject|oppose)\b"
)
# "we demand that Addis Ababa share ...": a demand on another party inside quoted speech
_QUOTED_DEMAND = re.compile(
    r"\s*(?:[Ww]e|I)\s+(?:also\s+|strongly\s+|firmly\s+)?(?:demand|urge|ask|call on|insist|"
    r"expect|want)\s+(?:that\s+)?(?!(?:to|that)\b)((?:\S+\s+){0,4}?\S+)\s+(?:to\s+)?"
    r"(?!be\b)[a-z]"
)


_BETWEEN_TAIL = re.compile(r"\b(?:between|among|both)\s+(?:the\s+)?[\w'’ -]{1,40}$")


def _split_points(
    ctx: _Ctx, a: int, b: int, kind: str = ""
) -> list[tuple[int, int, _SV | None, str | None]]:
    """Clause boundaries in source[a:b]: (cut, next start, new subject/verb, participle)."""
    src = ctx.doc.source
    out = []
    depth_quote = 0
    qa = a + 1 if src[a : a + 1] in ('"', "“") else a  # a quotation opening the content
    for m in _SPLIT.finditer(src[a:b]):
        cut, nxt = a + m.start(), a + m.end()
        seg = src[qa:cut]
        depth_quote = seg.count("“") - seg.count("”") + seg.count('"') % 2
        if depth_quote > 0:
            continue
        word = src[nxt:b].split(" ", 1)[0].lower().strip(",")
        if word == "that" and "and" in m.group():
            out.append((cut, nxt, None, "that"))  # "noted that A, and that B"
            continue
        if "and" in m.group() and _POSS_STANCE.match(src[nxt:b]):
            head = _POSS_STANCE.match(src[nxt:b]).group(1)
            if _resolve_np(ctx, head):
                out.append((cut, nxt, None, "object"))  # "... and Seoul's position on X"
                continue
        if word in _PARTICIPLES and not m.group().lstrip(", ").startswith("and"):
            out.append((cut, nxt, None, word))
            continue
        if (
            kind == "speech"
            and m.group().startswith(",")
            and ("and" in m.group() or "but" in m.group())
            and (
                _NEW_CLAUSE.match(src, nxt, b)
                or ("but" in m.group() and _PRONOUN_CLAUSE.match(src, nxt, b))
                or _QUOTED_DEMAND.match(src, nxt, b)
            )
        ):
            out.append((cut, nxt, None, "object"))  # reported speech: a second statement
            continue
        toks = _tokens(src[nxt:b], nxt)
        if not toks:
            continue
        k = 0
        while k < len(toks) and (
            toks[k][2].lower() in _ADVERBS
            or (toks[k][2].lower().endswith("ly") and toks[k][2][:1].islower())
        ):
            k += 1
        if k < len(toks) and toks[k][2][:1].islower():
            v = _verb_at(toks, k)
            if v is not None and (not v[2] or k > 0) and v[0] not in ("will", "ready"):
                out.append(
                    (
                        cut,
                        nxt,
                        _SV(
                            set(),
                            nxt,
                            toks[k][0],
                            toks[v[3] - 1][1] if v[3] - 1 < len(toks) else toks[-1][1],
                            v[0],
                            v[1],
                        ),
                        None,
                    )
                )
                continue
            if v is not None and v[0] == "ready" and m.group().strip(", ").startswith("and"):
                out.append(
                    (cut, nxt, _SV(set(), nxt, toks[k][0], toks[v[3] - 1][1], v[0], v[1]), None)
                )
                continue
        if m.group().strip().startswith(";") or "and" in m.group() or "while" in m.group() or (
            "whereas" in m.group()
        ):
            sv = _subject_verb(ctx, nxt, b, content=True)
            if sv is not None and ("while" in m.group() or "whereas" in m.group()) and (
                sv.kind in ("should",) or not sv.speakers
            ):
                continue  # ", while the talks should ...": only a new party speaker splits
            if sv is None or sv.kind in ("narr", "background"):
                continue  # "X and Y held a call, charting ..." stays one clause
            seg = src[max(a, out[-1][1] if out else a) : cut]
            seg = seg[seg.rfind(" that ") + 1 :] if " that " in seg else seg
            prev_words = len(seg.split())
            if not m.group().startswith(",") and prev_words < 3 and JOINT not in sv.speakers:
                continue  # "that Japan and the United States would ...": one subject
            if not m.group().startswith(",") and _BETWEEN_TAIL.search(seg):
                continue  # "the Agreement between the EU and Chile offers ...": one subject
            out.append((cut, nxt, sv, None))
    return out


def _split_and_emit(
    ctx: _Ctx,
    s: Sentence,
    speakers: set[str],
    kind: str,
    lemma: str,
    a: int,
    b: int,
    *,
    verb_start: int | None = None,
    subj_start: int | None = None,
) -> None:
    points = _split_points(ctx, a, b, kind)
    cur_start, cur_speakers, cur_kind, cur_lemma, cur_vs = a, speakers, kind, lemma, verb_start
    cur_ss = subj_start
    for cut, nxt, sv, part in points:
        _emit_clause(
            ctx,
            s,
            cur_speakers,
            cur_kind,
            cur_lemma,
            cur_start,
            cut,
            verb_start=cur_vs,
            subj_start=cur_ss,
        )
        cur_ss = None
        if part in ("that", "object"):
            cur_start = nxt + (5 if part == "that" else 0)
            continue
        if part is not None:
            cur_kind, cur_lemma = _PARTICIPLES[part], part
            cur_start = nxt + len(part)
            if part == "pointing":
                cur_start += 4
            m = re.match(r"\s*(?:that\b|:)?\s*", ctx.doc.source[cur_start:b])
            cur_start += m.end() if m else 0
            cur_vs = None
        elif sv is not None:
            new_speakers = sv.speakers or cur_speakers
            if sv.kind == "should":
                # "..., and the two sides should ..." inside reported speech: content
                cur_start, cur_vs = nxt, None
                cur_kind, cur_lemma = "speech", "say"
                continue
            cur_speakers = new_speakers
            _set_last(ctx, cur_speakers)
            cur_kind, cur_lemma = sv.kind, sv.lemma
            cur_start = sv.verb_end
            cur_vs = sv.verb_start
            if sv.kind in ("speech", "hope"):
                m = _THAT.match(ctx.doc.source[cur_start:b])
                if m:
                    cur_start += m.end()
    _emit_clause(
        ctx,
        s,
        cur_speakers,
        cur_kind,
        cur_lemma,
        cur_start,
        b,
        verb_start=cur_vs,
        subj_start=cur_ss,
    )


def _process_content(
    ctx: _Ctx, s: Sentence, speakers: set[str], kind: str, lemma: str, a: int, b: int
) -> None:
    """Content of reported speech (no verb of its own at the start)."""
    _split_and_emit(ctx, s, speakers, kind, lemma, a, b)


def _all(ctx: _Ctx) -> tuple[str, ...]:
    return tuple(ctx.participants)


def _expand(ctx: _Ctx, speakers: set[str]) -> tuple[str, ...]:
    if JOINT in speakers:
        return _all(ctx)
    parts = [c for c in ctx.participants if c in speakers]
    extra = [c for c in sorted(speakers) if c not in ctx.participants and c != JOINT]
    return tuple(parts + extra)


def _others(ctx: _Ctx, speakers: tuple[str, ...]) -> tuple[str, ...]:
    rest = tuple(c for c in ctx.participants if c not in speakers)
    return rest or speakers


def _emit_clause(
    ctx: _Ctx,
    s: Sentence,
    speakers: set[str],
    kind: str,
    lemma: str,
    a: int,
    b: int,
    *,
    verb_start: int | None = None,
    subj_start: int | None = None,
    target: tuple[str, ...] = (),
) -> None:
    src = ctx.doc.source
    if kind in ("narr", "discuss", "background"):
        return
    if (
        lemma == "insist"
        and re.search(r"\b(?:is|are|was|were|would not|will not|remains?|remained)\b", src[a:b])
        and not _SHOULD_RE.search(src[a:b])
    ):
        kind = "speech"  # "insisted that Turkey's rights ... were non-negotiable": a stance
    # trim
    while a < b and src[a] in " ,;:\"“”'’‘":
        a += 1
    while b > a and src[b - 1] in " ,;:.":
        b -= 1
    if b - a < 3:
        if (
            kind == "agree"
            and lemma in ("agree", "concur")
            and verb_start is not None
            and len(ctx.participants) >= 2
        ):
            # "Minister Vieira concurred(, noting ...)": agreeing with the other side's view
            near = subj_start is not None and verb_start - subj_start < 60
            ev_a = subj_start if near and subj_start is not None else verb_start
            span = clause_span(ctx.doc, max(ev_a, s.start), b)
            if span.sentence == s.index:
                ctx.items.append(
                    _Item("agreement", _all(ctx), (), span.start, span.end, "shared_view")
                )
        return
    content = src[a:b]
    if len(content.split()) < 2 and kind in ("speech",):
        return
    if kind == "call" and (
        re.match(r"(?:and|or|but)\b|,", content)
        or not re.search(r"\bto\s+(?!lunch|dinner|breakfast|the\b|a\b)[a-z]+", content[:160])
    ):
        return  # a courtesy call ("called on and was hosted to lunch by ...")
    if kind == "stance" and _GREETINGS.match(low_content := content.lower()) and not re.search(
        r"\b(?:and|but)\s+(?:\w+\s+){0,3}(?:that|to)\b", low_content
    ):
        return  # "conveyed the warm greetings of X to Y": a pleasantry, not a stance
    if lemma == "welcome" and _welcome_visitor(ctx, content):
        return  # "X welcomed Minister Y to the Pentagon": hosting, not a stance
    spk = _expand(ctx, speakers)
    if not spk:
        return
    joint = JOINT in speakers or len(spk) >= 2
    ev_a = verb_start if (verb_start is not None and kind not in ("speech",)) else a
    low = content.lower()
    category, to, fk = "position", (), ""
    if kind == "agree":
        category = "agreement"
        fk = (
            "signed_instrument"
            if lemma == "sign"
            else (
                "joint_action"
                if re.match(r"\s*(?:to|on\s+\w+ing)\b", low)
                or re.search(r"\b(?:will|would|shall)\b", low[:120])
                else "shared_view"
            )
        )
        if not joint:
            spk = _all(ctx) if len(ctx.participants) >= 2 else spk
    elif kind in ("request", "call"):
        category = "request"
        fk = (
            "urge"
            if lemma in ("urge", "press", "call on", "exhort", "calling", "urging")
            else ("demand" if lemma in ("demand", "insist") else "ask")
        )
        to = target or _addressees(ctx, content, spk)
    elif kind == "hope":
        m = (
            None
            if re.match(r"\s*to\s", content)
            else re.match(
                r"\s*(?:that\s+)?(.{1,80}?)\s+(?:will|would|can|could|may|might|shall|"
                r"should|to)\b",
                content,
            )
        )
        target = _resolve_np(ctx, m.group(1)) if m else set()
        target_codes = _expand(ctx, target) if target else ()
        if target and (JOINT in target or set(target_codes) - set(spk)):
            category, fk = "request", "ask"
            to = tuple(c for c in target_codes if c not in spk) or _others(ctx, spk)
        elif m and not target and _GENERIC_ADDRESSEE.fullmatch(m.group(1).strip()):
            # "hoped that the international community would ease sanctions": a hope placed on
            # everyone else is a request
            category, fk = "request", "ask"
            named = [c for _s, _e, c, k in _country_spans(content[m.end() :]) if k != "weak"]
            to = tuple(dict.fromkeys(c for c in named if c not in spk)) or _others(ctx, spk)
        if joint and category == "position":
            category, fk = "agreement", "shared_view"
    elif kind == "commit":
        if joint:
            category, fk = "agreement", "joint_action"
    else:  # speech / stance
        if joint:
            category, fk = "agreement", "shared_view"
            req = _content_request(ctx, content, spk, kind)
            if (
                req
                and not set(req) & set(ctx.participants)
                and not re.search(
                    r"\b(?:should|must|ought to|needs? to|ha(?:s|ve) to)\s+(?:not\s+)?be\b", low
                )
            ):
                # "Both sides underscored that the Myanmar authorities must ensure ...": a call
                # made together on a third party is a joint request
                category, to, fk = "request", req, "ask"
        else:
            req = _content_request(ctx, content, spk, kind)
            if req is None and lemma.startswith("look"):
                req = _look_forward_request(ctx, content, spk)
            if req is not None:
                category, to, fk = "request", req, "ask"
    if joint and category == "position":
        category = "agreement"
    if category == "agreement" and len(spk) < 2 and len(ctx.participants) >= 2:
        spk = _all(ctx)
    if category == "request" and not to:
        to = _others(ctx, spk)
    ev_a = max(ev_a, s.start)
    span = clause_span(ctx.doc, ev_a, b)
    if span.sentence != s.index:
        return
    ctx.items.append(_Item(category, spk, tuple(to), span.start, span.end, fk))


_LOOK_FORWARD_TO = re.compile(
    r"\s*(?:forward\s+)?(?:to\s+)?((?:the\s+)?[A-ZÀ-Þ][\w'’.-]*(?:\s+(?:of\s+)?[A-ZÀ-Þ][\w'’.-]*){0,4}|"
    r"(?:his|her|their|its)\s+counterpart|the\s+(?:other|\w+)\s+side)\s+(?:\w+ly\s+)?"
    r"(?!being\b)[a-z]{2,}ing\b"
)


def _look_forward_request(ctx: _Ctx, content: str, spk: tuple[str, ...]) -> tuple | None:
    """'looked forward to Norway opening a trade office': an action wanted from another party
    (but 'looked forward to welcoming X' is the speaker's own plan)."""
    m = _LOOK_FORWARD_TO.match(content)
    if not m:
        return None
    codes = _resolve_np(ctx, m.group(1))
    if not codes or JOINT in codes:
        return None
    out = tuple(c for c in _expand(ctx, codes) if c not in spk)
    return out or None


_GREETINGS = re.compile(
    r"(?:the\s+|his\s+|her\s+|their\s+|its\s+)?(?:(?:warm|warmest|cordial|best|kind|kindest|"
    r"fraternal|sincere|personal|friendly|heartfelt)\s+(?:and\s+)?)*(?:greetings|regards|"
    r"salutations)\b"
)
_WELCOME_TO = re.compile(
    r"((?:(?:[A-ZÀ-Þ][\w.'’-]*|of|the|his|her|their|and|counterpart|delegation)\s+){1,14}?)"
    r"to\s+(?:the\s+)?[A-ZÀ-Þ]"
)


def _welcome_visitor(ctx: _Ctx, content: str) -> bool:
    """'welcomed <a participant> to <a place>': the host greeting the visitor."""
    m = _WELCOME_TO.match(content)
    if m is None:
        return False
    codes = _resolve_np(ctx, m.group(1))
    return bool(codes) and (JOINT in codes or bool(codes & set(ctx.participants)))


def _addressees(ctx: _Ctx, content: str, spk: tuple[str, ...]) -> tuple[str, ...]:
    lead = _LEAD_NP.match(content)
    if lead:
        codes = _resolve_np(ctx, lead.group(1))
        exp = tuple(c for c in _expand(ctx, codes) if c not in spk) if codes else ()
        if exp:
            return exp
    m = re.match(r"\s*(?:on|upon|for)?\s*(.{1,80}?)\s+(?:to\b|for\b|that\b)", content)
    head = m.group(1) if m else content[:80]
    codes = _resolve_np(ctx, head) or set()
    if not codes:
        codes = {c for _s, _e, c, k in _country_spans(content) if k != "weak"}
    exp = _expand(ctx, codes) if codes else ()
    out = tuple(c for c in exp if c not in spk)
    return out or _others(ctx, spk)


def _content_request(ctx: _Ctx, content: str, spk: tuple[str, ...], kind: str) -> tuple | None:
    """Reported content that asks something of another party: should/must, hope that, need for."""
    m = _SHOULD_RE.search(content)
    if m:
        before = content[: m.start()]
        cut = max(before.rfind(","), before.rfind(" that "), before.rfind(";"))
        subj = before[cut + 1 :].strip()
        subj = re.sub(r"^that\s+", "", subj)
        subj = _trim_subject(subj)
        codes = _resolve_np(ctx, subj) if subj and len(subj.split()) <= 8 else set()
        if codes:
            exp = _expand(ctx, codes)
            if JOINT in codes or set(exp) - set(spk):
                return tuple(c for c in exp if c not in spk) or _others(ctx, spk)
        elif subj and _GENERIC_ADDRESSEE.fullmatch(subj):
            # "the international community must stop X": a call on everyone, X's rivals included
            named = [c for _s, _e, c, k in _country_spans(content[m.end() :]) if k != "weak"]
            return tuple(dict.fromkeys(c for c in named if c not in spk)) or _others(ctx, spk)
        elif (
            subj
            and _ACTOR_NP.fullmatch(subj)
            and subj.split()[-1] not in _CAP_STOP
            and subj.split()[-1] not in _TITLE_WORDS
            and not re.match(r"\s*(?:not\s+)?(?:be|have\s+been)\b", content[m.end() :])
        ):
            # "the Taliban must lift restrictions ...": a named actor that is no state of ours
            return ()
    m = _NEED_NP_TO.match(content)
    if m:
        # "We need both parties to show flexibility": an action wanted from another party
        np = m.group(1)
        codes = _resolve_np(ctx, np)
        exp = _expand(ctx, codes) if codes else ()
        if codes and (JOINT in codes or set(exp) - set(spk)):
            return tuple(c for c in exp if c not in spk) or _others(ctx, spk)
        if not codes and _GENERIC_ADDRESSEE.fullmatch(np):
            named = [c for _s, _e, c, k in _country_spans(content) if k != "weak"]
            return tuple(dict.fromkeys(c for c in named if c not in spk)) or _others(ctx, spk)
    m = _NEED_FOR_NP_TO.match(content)
    if m:
        # "stressed the need for the international community to assume its responsibilities"
        np = m.group(1)
        codes = _resolve_np(ctx, np)
        exp = _expand(ctx, codes) if codes else ()
        if codes and JOINT not in codes and set(exp) - set(spk):
            return tuple(c for c in exp if c not in spk)
        if not codes and _GENERIC_ADDRESSEE.fullmatch(np):
            return ()
    m = _QUOTED_DEMAND.match(content)
    if m:
        codes = _resolve_np(ctx, m.group(1))
        exp = _expand(ctx, codes) if codes else ()
        if codes and JOINT not in codes and set(exp) - set(spk):
            return tuple(c for c in exp if c not in spk)
    m = _HOPE_THAT.search(content)
    if m and m.start() < 40:
        rest = content[m.end() :]
        mm = re.match(r"(.{1,80}?)\s+(?:will|would|can|could|may|might|shall)\b", rest)
        if mm is None and m.group().lower().startswith("expect"):
            # "expects Pakistan to take measures": an expectation placed on another party
            mm = re.match(r"(?!to\b)((?:\S+\s+){0,5}?\S+)\s+to\s+(?!be\b)[a-z]", rest)
        if mm:
            codes = _resolve_np(ctx, mm.group(1))
            exp = _expand(ctx, codes) if codes else ()
            if codes and (JOINT in codes or set(exp) - set(spk)):
                return tuple(c for c in exp if c not in spk) or _others(ctx, spk)
            if not codes and _GENERIC_ADDRESSEE.fullmatch(mm.group(1).strip()):
                # "hoped that the international community would ease sanctions"
                named = [c for _s, _e, c, k in _country_spans(rest) if k != "weak"]
                return tuple(dict.fromkeys(c for c in named if c not in spk)) or _others(ctx, spk)
    m = _NEED_FOR.search(content)
    if m and m.start() < 30:
        rest = content[m.end() : m.end() + 80]
        mm = re.match(r"(.{1,60}?)(?:\s+to\b|['’]s\b)", rest)
        if mm:
            codes = _resolve_np(ctx, re.sub(r"^(?:all\s+)?(?:the\s+)?", "", mm.group(1)))
            if not codes and re.search(r"\b(?:participants|parties|sides)\b", mm.group(1)):
                codes = {JOINT}
            exp = _expand(ctx, codes) if codes else ()
            if codes and (JOINT in codes or set(exp) - set(spk)):
                return tuple(c for c in exp if c not in spk) or _others(ctx, spk)
    return None


_INSTRUMENT = re.compile(
    r"\b(?:memorand(?:um|a)|mou|mous|agreements?|notes|treaty|treaties|protocols?|"
    r"conventions?|letters? of intent|joint declaration|joint statement|accords?)\b"
)


def _unattributed(
    ctx: _Ctx, s: Sentence, a: int, b: int, carry: set[str] | None
) -> set[str] | None:
    src = ctx.doc.source
    text = src[a:b]
    low = text.lower()
    if _PERFECT_REPORT.search(low[:80]):
        return None
    # passive communiqué voice
    if re.search(
        r"\b(?:it was|it has been|it is)\s+(?:agreed|decided|resolved|noted|"
        r"reaffirmed|affirmed|welcomed|stressed|emphasi[sz]ed|recognized|recognised|"
        r"underlined|confirmed)\b",
        low[:60],
    ) or re.search(r"\b(?:was|were|has been|have been)\s+signed\b", low):
        kind = "agree" if re.search(r"agreed|decided|resolved|signed", low) else "stance"
        lemma = "sign" if "signed" in low else "agree"
        m = re.search(
            r"\b(?:agreed|decided|resolved|noted|reaffirmed|affirmed|welcomed|stressed|"
            r"emphasi[sz]ed|recognized|recognised|underlined|confirmed)\b\s*(?:that\s+)?",
            text,
        )
        start = a + m.end() if m and "signed" not in low else a
        _split_and_emit(ctx, s, {JOINT}, kind, lemma, start, b)
        return None
    if _INSTRUMENT.search(low) and re.search(
        r"\b(?:was|were|has been|have been)\s+(?:exchanged|concluded|initialled|initialed|"
        r"adopted|inked)\b",
        low,
    ):
        # "the Exchange of Notes ... and a Memorandum of Cooperation ... were exchanged": a
        # signed instrument in the passive
        _split_and_emit(ctx, s, {JOINT}, "agree", "sign", a, b)
        return None
    if carry:
        if _is_narration(text) and not _SHOULD_RE.search(low):
            return carry
        spk = carry
        _split_and_emit(ctx, s, spk, "speech", "say", a, b)
        return carry
    if ctx.joint_doc:
        first = low.split(" ", 1)[0]
        if first in (
            "recognizing",
            "recognising",
            "noting",
            "acknowledging",
            "welcoming",
            "reaffirming",
            "stressing",
            "underlining",
            "emphasizing",
            "emphasising",
        ):
            _split_and_emit(ctx, s, {JOINT}, "stance", first, a, b)
            return None
    return None


# --- third parties, event, output ---------------------------------------------------------------
_LOC_BEFORE = re.compile(
    r"\b(?:met|meet|meeting|meetings|summit|talks|visit|visiting|visited|held|hosted|conference|"
    r"session|dialogue|forum|gathering|trip|travel|travelled|traveled|arrived|returned|return)"
    r"\b[^.;]{0,40}\b(?:in|at|to)\s+(?:the\s+)?$"
)


def _find_third_parties(ctx: _Ctx, headings: list[bool]) -> None:
    src = ctx.doc.source
    for s, h in zip(ctx.doc.sentences, headings, strict=True):
        if h:
            continue
        for st, _en, code, kind in _country_spans(s.text):
            if code in ctx.participants or code in ctx.third or kind in ("weak", "capital"):
                continue
            before = s.text[max(0, st - 60) : st]
            if _LOC_BEFORE.search(before):
                continue
            if re.search(r"\b(?:in|at)\s+(?:the\s+)?$", before) and code in ("EUR",):
                continue
            name = src[s.start + st : s.start + _en]
            ctx.third[code] = _PartyInfo(code, name, None, "third_party")
    for it in ctx.items:
        for c in it.to:
            if c not in ctx.participants and c not in ctx.third:
                ctx.third[c] = _PartyInfo(c, code_name(c, ""), None, "third_party")


def _event(ctx: _Ctx, headings: list[bool]) -> Event:
    sents = ctx.doc.sentences
    head = " ".join(s.text for s, h in zip(sents, headings, strict=True) if h)[:600]
    body_first = ""
    if ctx.narration_index is not None:
        body_first = sents[ctx.narration_index].text
    text = head + " " + body_first
    if _VIDEO.search(text):
        kind = "video_call"
    elif _CALL.search(text) and not re.search(r"\bmet\b|\bmeeting\b", body_first):
        kind = "call"
    elif _VISIT.search(body_first):
        kind = "visit"
    elif _MEETING.search(text):
        kind = "meeting"
    elif _VISIT.search(text):
        kind = "visit"
    elif ctx.joint_doc:
        kind = "joint_statement"
    else:
        kind = "other"
    location = None
    loc_text = body_first
    if ctx.narration_index is not None and ctx.narration_index + 1 < len(sents):
        loc_text += " " + sents[ctx.narration_index + 1].text
    m = _LOCATION.search(loc_text)
    if m:
        loc = m.group(1).strip(" ,.")
        loc = re.sub(r"^the\s+", "", loc)
        if loc.split()[0] not in _MONTHS and len(loc) <= 200:
            location = loc
    initiated = ctx.initiated_by if ctx.initiated_by in ctx.participants else None
    return Event(kind=kind, location=location, initiated_by=_pid(initiated) if initiated else None)


def _pid(code: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", code.lower())[:32] or "x"


def _headline(ctx: _Ctx, headings: list[bool]) -> str:
    sents = ctx.doc.sentences
    cand = None
    if ctx.narration_index is not None:
        cand = _strip_prefix(sents[ctx.narration_index].text)
    if not cand:
        cand = next(
            (
                s.text
                for s, h in zip(sents, headings, strict=True)
                if h and sum(c.isalpha() for c in s.text) > 10
            ),
            None,
        )
    if not cand:
        return _fallback_headline(ctx.doc)
    cand = " ".join(cand.split())
    if len(cand) > 400:
        cand = cand[:397].rsplit(" ", 1)[0] + "..."
    return cand or _fallback_headline(ctx.doc)


def _summary_text(ctx: _Ctx, spk: tuple[str, ...], text: str) -> str:
    names = []
    for c in spk:
        info = ctx.participants.get(c) or ctx.third.get(c)
        names.append(info.name if info else c)
    who = " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]
    body = " ".join(text.split())
    out = f"{who}: {body}" if who else body
    if len(out) > 600:
        out = out[:597].rsplit(" ", 1)[0] + "..."
    return out or "statement"


def _build(ctx: _Ctx, event: Event, headings: list[bool]) -> ReadoutSummary:
    parties = []
    for info in list(ctx.participants.values()) + list(ctx.third.values()):
        parties.append(
            Party(
                id=_pid(info.code),
                name=info.name[:200] or info.code,
                title=info.title,
                country=info.code if re.fullmatch(r"[A-Z]{3,4}", info.code) else None,
                role=info.role,
            )
        )
        if len(parties) >= 50:
            break
    known = {p.id for p in parties}
    positions, requests, agreements = [], [], []
    seen: set[tuple[str, int, int]] = set()
    for it in sorted(ctx.items, key=lambda x: (x.start, x.end)):
        key = (it.category, it.start, it.end)
        if key in seen:
            continue
        seen.add(key)
        ids = [_pid(c) for c in it.speakers if _pid(c) in known]
        if not ids:
            continue
        sent = ctx.doc.sentence_at(it.start)
        if sent is None:
            continue
        span = Span(
            sentence=sent.index, start=it.start, end=it.end, text=ctx.doc.source[it.start : it.end]
        )
        summary = _summary_text(ctx, it.speakers, span.text)
        if it.category == "position":
            positions.append(Position(party=ids[0], summary=summary, evidence=[span]))
        elif it.category == "request":
            to = [_pid(c) for c in it.to if _pid(c) in known] or [i for i in ids]
            requests.append(
                Request(
                    by=ids[0],
                    to=list(dict.fromkeys(to))[:20],
                    summary=summary,
                    force=it.kind if it.kind in ("ask", "urge", "demand") else "ask",
                    evidence=[span],
                )
            )
        else:
            agreements.append(
                Agreement(
                    parties=list(dict.fromkeys(ids))[:20],
                    summary=summary,
                    kind=it.kind
                    if it.kind in ("shared_view", "joint_action", "signed_instrument")
                    else "shared_view",
                    evidence=[span],
                )
            )
    return ReadoutSummary(
        event=event,
        parties=parties,
        headline=_headline(ctx, headings),
        positions=positions[:500],
        requests=requests[:500],
        agreements=agreements[:500],
    )


def _foreign_summary(ctx: _Ctx) -> ReadoutSummary:
    doc = ctx.doc
    body = doc.body
    found: list[tuple[int, str, str]] = []
    tables = foreign_country_regex(ctx.lang) if ctx.lang.isalpha() and len(ctx.lang) == 2 else None
    if tables is not None:
        rx, table = tables
        for m in rx.finditer(body):
            found.append((m.start(), table[m.group()], m.group()))
    for s, e, code, kind in _country_spans(body):
        if kind != "weak":
            found.append((s, code, body[s:e]))
    found.sort()
    parties: dict[str, _PartyInfo] = {}
    if ctx.issuer:
        parties[ctx.issuer] = _PartyInfo(ctx.issuer, code_name(ctx.issuer, ""), None)
    for _pos, code, name in found:
        if code not in parties:
            role = "participant" if not parties else "third_party"
            parties[code] = _PartyInfo(code, name, None, role)
        if len(parties) >= 50:
            break
    headline = None
    for s in doc.sentences:
        t = " ".join(s.text.split())
        if sum(c.isalpha() for c in t) > 3:
            headline = t if len(t) <= 400 else t[:397].rsplit(" ", 1)[0] + "..."
            break
    kind = "other"
    return ReadoutSummary(
        event=Event(kind=kind),
        parties=[
            Party(id=_pid(p.code), name=p.name[:200], title=None, country=p.code, role=p.role)
            for p in parties.values()
        ],
        headline=headline or "Readout (language not supported by the offline engine).",
    )
