"""Country lexicon for the offline engine: names, demonyms, capitals and offices -> ISO alpha-3.

The tables are general (any readout, any issuer): pycountry names plus a small hand-written list
of short forms, demonyms, capitals and seats of government. Everything is built once, lazily, and
cached; matching uses one precompiled regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = [
    "CAPITALS",
    "DEMONYMS",
    "country_regex",
    "foreign_country_regex",
    "lookup",
]

# Short and customary names pycountry lacks (or spells formally).
EXTRA_NAMES: dict[str, str] = {
    "United States": "USA",
    "United States of America": "USA",
    "U.S.": "USA",
    "U.S.A.": "USA",
    "US": "USA",
    "USA": "USA",
    "America": "USA",
    "United Kingdom": "GBR",
    "UK": "GBR",
    "U.K.": "GBR",
    "Britain": "GBR",
    "Great Britain": "GBR",
    "Russia": "RUS",
    "Russian Federation": "RUS",
    "South Korea": "KOR",
    "Republic of Korea": "KOR",
    "ROK": "KOR",
    "Korea": "KOR",
    "S. Korea": "KOR",
    "North Korea": "PRK",
    "DPRK": "PRK",
    "Democratic People's Republic of Korea": "PRK",
    "Democratic People’s Republic of Korea": "PRK",
    "N. Korea": "PRK",
    "Iran": "IRN",
    "Syria": "SYR",
    "Vietnam": "VNM",
    "Viet Nam": "VNM",
    "Laos": "LAO",
    "Bolivia": "BOL",
    "Venezuela": "VEN",
    "Tanzania": "TZA",
    "Moldova": "MDA",
    "Taiwan": "TWN",
    "Palestine": "PSE",
    "Czech Republic": "CZE",
    "Czechia": "CZE",
    "Turkey": "TUR",
    "Türkiye": "TUR",
    "Turkiye": "TUR",
    "Ivory Coast": "CIV",
    "Brunei": "BRN",
    "Micronesia": "FSM",
    "Democratic Republic of the Congo": "COD",
    "DRC": "COD",
    "Republic of the Congo": "COG",
    "Vatican": "VAT",
    "Holy See": "VAT",
    "Macedonia": "MKD",
    "North Macedonia": "MKD",
    "Cape Verde": "CPV",
    "Swaziland": "SWZ",
    "Burma": "MMR",
    "People's Republic of China": "CHN",
    "People’s Republic of China": "CHN",
    "PRC": "CHN",
    "UAE": "ARE",
    "Emirates": "ARE",
    "Holland": "NLD",
    "the Netherlands": "NLD",
    "Kyrgyzstan": "KGZ",
    "Slovakia": "SVK",
    "Gambia": "GMB",
    "Bahamas": "BHS",
    "French Republic": "FRA",
    "Federal Republic of Germany": "DEU",
    "EU": "EUR",
    "European Union": "EUR",
    "EEAS": "EUR",
    "European External Action Service": "EUR",
    "European Commission": "EUR",
    "European Council": "EUR",
    "United Nations": "UNO",
    "UN": "UNO",
    # groups that can speak as one (schema: 4-letter codes), when the text makes them a speaker
    "NATO": "NATO",
    "North Atlantic Treaty Organization": "NATO",
    "North Atlantic Treaty Organisation": "NATO",
    "Alliance": "NATO",  # "the Alliance" (filtered by context in the engine)
}

DEMONYMS: dict[str, str] = {
    "American": "USA",
    "Chinese": "CHN",
    "Japanese": "JPN",
    "Korean": "KOR",
    "South Korean": "KOR",
    "North Korean": "PRK",
    "Russian": "RUS",
    "British": "GBR",
    "French": "FRA",
    "German": "DEU",
    "Italian": "ITA",
    "Spanish": "ESP",
    "Canadian": "CAN",
    "Mexican": "MEX",
    "Brazilian": "BRA",
    "Argentine": "ARG",
    "Argentinian": "ARG",
    "Indian": "IND",
    "Pakistani": "PAK",
    "Afghan": "AFG",
    "Iranian": "IRN",
    "Iraqi": "IRQ",
    "Syrian": "SYR",
    "Israeli": "ISR",
    "Palestinian": "PSE",
    "Saudi": "SAU",
    "Emirati": "ARE",
    "Qatari": "QAT",
    "Turkish": "TUR",
    "Egyptian": "EGY",
    "Ukrainian": "UKR",
    "Polish": "POL",
    "Dutch": "NLD",
    "Belgian": "BEL",
    "Swiss": "CHE",
    "Swedish": "SWE",
    "Norwegian": "NOR",
    "Danish": "DNK",
    "Finnish": "FIN",
    "Austrian": "AUT",
    "Greek": "GRC",
    "Portuguese": "PRT",
    "Irish": "IRL",
    "Australian": "AUS",
    "New Zealand": "NZL",
    "Indonesian": "IDN",
    "Malaysian": "MYS",
    "Singaporean": "SGP",
    "Singapore": "SGP",
    "Thai": "THA",
    "Vietnamese": "VNM",
    "Filipino": "PHL",
    "Philippine": "PHL",
    "Cambodian": "KHM",
    "Lao": "LAO",
    "Laotian": "LAO",
    "Burmese": "MMR",
    "Bangladeshi": "BGD",
    "Sri Lankan": "LKA",
    "Nepali": "NPL",
    "Nepalese": "NPL",
    "Kazakh": "KAZ",
    "Kazakhstani": "KAZ",
    "Uzbek": "UZB",
    "Mongolian": "MNG",
    "Nigerian": "NGA",
    "South African": "ZAF",
    "Kenyan": "KEN",
    "Ethiopian": "ETH",
    "Ghanaian": "GHA",
    "Moroccan": "MAR",
    "Algerian": "DZA",
    "Tunisian": "TUN",
    "Libyan": "LBY",
    "Sudanese": "SDN",
    "Jordanian": "JOR",
    "Lebanese": "LBN",
    "Kuwaiti": "KWT",
    "Omani": "OMN",
    "Bahraini": "BHR",
    "Yemeni": "YEM",
    "Cuban": "CUB",
    "Venezuelan": "VEN",
    "Colombian": "COL",
    "Chilean": "CHL",
    "Peruvian": "PER",
    "Hungarian": "HUN",
    "Czech": "CZE",
    "Slovak": "SVK",
    "Romanian": "ROU",
    "Bulgarian": "BGR",
    "Serbian": "SRB",
    "Croatian": "HRV",
    "Belarusian": "BLR",
    "Georgian": "GEO",
    "Armenian": "ARM",
    "Azerbaijani": "AZE",
    "Estonian": "EST",
    "Latvian": "LVA",
    "Lithuanian": "LTU",
    "Taiwanese": "TWN",
    "Slovenian": "SVN",
    "Luxembourgish": "LUX",
    "Icelandic": "ISL",
    "Maltese": "MLT",
    "Cypriot": "CYP",
    "Ecuadorian": "ECU",
    "Uruguayan": "URY",
    "Paraguayan": "PRY",
    "Bolivian": "BOL",
    "Panamanian": "PAN",
    "Costa Rican": "CRI",
    "Guatemalan": "GTM",
    "Honduran": "HND",
    "Salvadoran": "SLV",
    "Nicaraguan": "NIC",
    "Dominican": "DOM",
    "Haitian": "HTI",
    "Jamaican": "JAM",
    "Senegalese": "SEN",
    "Malian": "MLI",
    "Angolan": "AGO",
    "Mozambican": "MOZ",
    "Zimbabwean": "ZWE",
    "Zambian": "ZMB",
    "Ugandan": "UGA",
    "Rwandan": "RWA",
    "Tanzanian": "TZA",
    "Somali": "SOM",
    "Congolese": "COD",
    "Cameroonian": "CMR",
    "Ivorian": "CIV",
    "Turkmen": "TKM",
    "Tajik": "TJK",
    "Kyrgyz": "KGZ",
    "Bruneian": "BRN",
    "Maldivian": "MDV",
    "Bhutanese": "BTN",
    "Fijian": "FJI",
    "Moldovan": "MDA",
    "Albanian": "ALB",
    "Bosnian": "BIH",
    "Montenegrin": "MNE",
    "Macedonian": "MKD",
    "Kosovar": "XKX",
}
DEMONYMS.pop("Kosovar")  # not an ISO 3166-1 code

# Capitals and seats of government, read as metonyms for their state ("Seoul has said").
CAPITALS: dict[str, str] = {
    "Washington": "USA",
    "White House": "USA",
    "State Department": "USA",
    "Department of State": "USA",
    "Pentagon": "USA",
    "Beijing": "CHN",
    "Zhongnanhai": "CHN",
    "Moscow": "RUS",
    "Kremlin": "RUS",
    "London": "GBR",
    "Downing Street": "GBR",
    "10 Downing Street": "GBR",
    "No. 10": "GBR",
    "Whitehall": "GBR",
    "Paris": "FRA",
    "Élysée": "FRA",
    "Elysée": "FRA",
    "Elysee": "FRA",
    "Élysée Palace": "FRA",
    "Quai d'Orsay": "FRA",
    "Berlin": "DEU",
    "Tokyo": "JPN",
    "Kantei": "JPN",
    "Seoul": "KOR",
    "Blue House": "KOR",
    "Pyongyang": "PRK",
    "Ottawa": "CAN",
    "Mexico City": "MEX",
    "New Delhi": "IND",
    "Islamabad": "PAK",
    "Kabul": "AFG",
    "Tehran": "IRN",
    "Damascus": "SYR",
    "Baghdad": "IRQ",
    "Riyadh": "SAU",
    "Ankara": "TUR",
    "Kyiv": "UKR",
    "Kiev": "UKR",
    "Canberra": "AUS",
    "Jakarta": "IDN",
    "Brasilia": "BRA",
    "Brasília": "BRA",
    "Rome": "ITA",
    "Madrid": "ESP",
    "Cairo": "EGY",
    "Hanoi": "VNM",
    "Manila": "PHL",
    "Bangkok": "THA",
    "Kuala Lumpur": "MYS",
    "Wellington": "NZL",
    "Warsaw": "POL",
    "Vienna": "AUT",
    "Stockholm": "SWE",
    "Oslo": "NOR",
    "Copenhagen": "DNK",
    "Helsinki": "FIN",
    "Athens": "GRC",
    "Lisbon": "PRT",
    "Dublin": "IRL",
    "The Hague": "NLD",
    "Bern": "CHE",
    "Abu Dhabi": "ARE",
    "Doha": "QAT",
    "Minsk": "BLR",
    "Tbilisi": "GEO",
    "Yerevan": "ARM",
    "Baku": "AZE",
    "Astana": "KAZ",
    "Tashkent": "UZB",
    "Ulaanbaatar": "MNG",
    "Dhaka": "BGD",
    "Colombo": "LKA",
    "Kathmandu": "NPL",
    "Abuja": "NGA",
    "Pretoria": "ZAF",
    "Nairobi": "KEN",
    "Addis Ababa": "ETH",
    "Rabat": "MAR",
    "Algiers": "DZA",
    "Tunis": "TUN",
    "Tripoli": "LBY",
    "Khartoum": "SDN",
    "Amman": "JOR",
    "Beirut": "LBN",
    "Havana": "CUB",
    "Caracas": "VEN",
    "Bogotá": "COL",
    "Bogota": "COL",
    "Santiago": "CHL",
    "Lima": "PER",
    "Buenos Aires": "ARG",
    "Budapest": "HUN",
    "Prague": "CZE",
    "Bucharest": "ROU",
    "Sofia": "BGR",
    "Belgrade": "SRB",
    "Zagreb": "HRV",
    "Tallinn": "EST",
    "Riga": "LVA",
    "Vilnius": "LTU",
    "Taipei": "TWN",
    "Phnom Penh": "KHM",
    "Vientiane": "LAO",
    "Naypyidaw": "MMR",
    "Kremlin Palace": "RUS",
    # capitals used as metonyms in wire copy ("Maputo rejected ...", "we demand that Harare ...")
    "Accra": "GHA",
    "Dakar": "SEN",
    "Kinshasa": "COD",
    "Luanda": "AGO",
    "Maputo": "MOZ",
    "Harare": "ZWE",
    "Lusaka": "ZMB",
    "Kampala": "UGA",
    "Kigali": "RWA",
    "Dodoma": "TZA",
    "Mogadishu": "SOM",
    "Asmara": "ERI",
    "N'Djamena": "TCD",
    "Niamey": "NER",
    "Bamako": "MLI",
    "Ouagadougou": "BFA",
    "Yamoussoukro": "CIV",
    "Windhoek": "NAM",
    "Gaborone": "BWA",
    "Antananarivo": "MDG",
    "Lilongwe": "MWI",
    "Yaoundé": "CMR",
    "Yaounde": "CMR",
    "Libreville": "GAB",
    "Brazzaville": "COG",
    "Conakry": "GIN",
    "Freetown": "SLE",
    "Monrovia": "LBR",
    "Nouakchott": "MRT",
    "Lomé": "TGO",
    "Bujumbura": "BDI",
    "Muscat": "OMN",
    "Manama": "BHR",
    "Sanaa": "YEM",
    "Sana'a": "YEM",
    "Bratislava": "SVK",
    "Ljubljana": "SVN",
    "Sarajevo": "BIH",
    "Skopje": "MKD",
    "Tirana": "ALB",
    "Podgorica": "MNE",
    "Chisinau": "MDA",
    "Chișinău": "MDA",
    "Reykjavik": "ISL",
    "Valletta": "MLT",
    "Nicosia": "CYP",
    "Montevideo": "URY",
    "Asunción": "PRY",
    "Quito": "ECU",
    "Port-au-Prince": "HTI",
    "Santo Domingo": "DOM",
    "Managua": "NIC",
    "Tegucigalpa": "HND",
    "Ashgabat": "TKM",
    "Bishkek": "KGZ",
    "Dushanbe": "TJK",
    "Thimphu": "BTN",
    "Port Moresby": "PNG",
    "Bandar Seri Begawan": "BRN",
}

# "Latin America", "Korean Peninsula": a name followed/preceded by these is not the state.
_NOT_AFTER = r"(?!\s+(?:Peninsula|War|Strait|Sea|language|[Ss]tudies|[Aa]merica\b))"
_NOT_BEFORE = r"(?<!Latin )(?<!South )(?<!Central )(?<!North )(?<!Latin-)"


def _key(name: str) -> str:
    return " ".join(name.replace("’", "'").split())


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(names -> code, kind) built once: kind is 'country', 'demonym' or 'capital'."""
    import pycountry

    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            v = getattr(c, attr, None)
            if not v:
                continue
            if "," in v:
                continue  # "Korea, Republic of" style inversions
            names[_key(v)] = c.alpha_3
            if v.startswith("the "):
                names[_key(v[4:])] = c.alpha_3
    for table, kind in ((EXTRA_NAMES, "country"), (DEMONYMS, "demonym"), (CAPITALS, "capital")):
        for k, v in table.items():
            names[_key(k)] = v
            kinds[_key(k)] = kind
    for k in names:
        kinds.setdefault(k, "country")
    # Drop ambiguous single words that are far more often something else in readouts.
    for bad in ("Georgia", "Jordan", "Chad", "Guinea", "Niger", "Dominica", "Turkey", "Mali"):
        if bad in names and bad not in EXTRA_NAMES:
            kinds[bad] = "weak"
    return names, kinds


def lookup(name: str) -> str | None:
    """The alpha-3 code for a country name, demonym, capital or office, or None."""
    names, _ = _tables()
    key = _key(name)
    if key.lower().startswith("the "):
        key = key[4:]
    return names.get(key)


def kind_of(name: str) -> str:
    _names, kinds = _tables()
    key = _key(name)
    return kinds.get(key, "country")


def _units(name: str) -> tuple[str, ...]:
    """A name as regex units: an apostrophe matches ' or ’, a space any run of whitespace."""
    out: list[str] = []
    for ch in name:
        if ch in "'’":
            out.append("['’]")
        elif ch.isspace():
            if not out or out[-1] != r"\s+":
                out.append(r"\s+")
        else:
            out.append(re.escape(ch))
    return tuple(out)


def _trie_pattern(names: Iterable[str]) -> str:
    """An alternation of `names` as a trie: at each branch the longer continuation is tried
    first, so it matches exactly what "longest alternative first" matches, without trying a
    thousand alternatives one by one at every capitalised word."""
    trie: dict[str, Any] = {}
    for name in names:
        node = trie
        for unit in _units(name):
            node = node.setdefault(unit, {})
        node[""] = {}  # a name ends here

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [unit + emit(child) for unit, child in sorted(node.items()) if unit]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return emit(trie)


@lru_cache(maxsize=1)
def country_regex() -> re.Pattern[str]:
    """One case-sensitive pattern matching any known name (the longest name that fits)."""
    names, _ = _tables()
    body = _trie_pattern(names)
    # cheap guards first: a name starts a capitalised word
    return re.compile(
        r"(?<![\w.-])(?=[A-ZÀ-ÞĀ-Ž])" + _NOT_BEFORE + r"(?:" + body + r")(?![\w-])" + _NOT_AFTER
    )


@lru_cache(maxsize=16)
def foreign_country_regex(lang: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """Country names in another language (pycountry's translations), built lazily per language."""
    import gettext

    import pycountry

    try:
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    except (OSError, ValueError):
        return None
    table: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            v = getattr(c, attr, None)
            if not v:
                continue
            t = tr.gettext(v)
            if "," in t:  # "Russie, Fédération de" -> "Russie"
                t = t.split(",")[0]
            if len(t) >= 3:
                table.setdefault(t, c.alpha_3)
    if not table:
        return None
    alts = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alts + r")(?!\w)"), table
