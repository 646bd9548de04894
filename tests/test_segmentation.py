from __future__ import annotations

import pytest

from readout.segmentation import parse_document, split_sentences


def texts(source: str) -> list[str]:
    sentences = split_sentences(source)
    for s in sentences:
        assert source[s.start : s.end] == s.text
    return [s.text for s in sentences]


def test_abbreviations_do_not_split() -> None:
    src = (
        "Mr. Wang met Dr. Smith in the U.S. capital on Jan. 3. "
        "Secretary of State Antony J. Blinken spoke with Ms. Lee at No. 10 Downing Street. "
        "They met again."
    )
    assert texts(src) == [
        "Mr. Wang met Dr. Smith in the U.S. capital on Jan. 3.",
        "Secretary of State Antony J. Blinken spoke with Ms. Lee at No. 10 Downing Street.",
        "They met again.",
    ]


def test_initialism_at_sentence_end_splits_before_an_opener() -> None:
    assert texts("He thanked the U.S. The two sides agreed.") == [
        "He thanked the U.S.",
        "The two sides agreed.",
    ]


def test_no_as_a_word_still_ends_a_sentence() -> None:
    assert texts("The answer was no. Then they left.") == ["The answer was no.", "Then they left."]


def test_quotes_stay_with_their_sentence() -> None:
    src = '"We will work together," Wang said. "China is ready." He added that it was "historic."'
    assert texts(src) == [
        '"We will work together," Wang said.',
        '"China is ready."',
        'He added that it was "historic."',
    ]


def test_curly_quotes() -> None:
    assert texts("“We agree.” The Minister smiled.") == ["“We agree.”", "The Minister smiled."]


def test_numbered_list_and_heading() -> None:
    src = "Joint Statement\n\nThe leaders agreed to:\n1. Expand trade.\n2. Hold talks in May.\n"
    assert texts(src) == [
        "Joint Statement",
        "The leaders agreed to:",
        "1. Expand trade.",
        "2. Hold talks in May.",
    ]


def test_hard_wrapped_lines_are_joined() -> None:
    src = "The Prime Minister welcomed the\nprogress made on trade. Both sides agreed."
    assert texts(src) == [
        "The Prime Minister welcomed the\nprogress made on trade.",
        "Both sides agreed.",
    ]


def test_cjk_full_width_punctuation() -> None:
    src = "王毅表示，中方愿同墨方加强合作。埃布拉德表示感谢！双方同意继续沟通？好。"
    assert texts(src) == [
        "王毅表示，中方愿同墨方加强合作。",
        "埃布拉德表示感谢！",
        "双方同意继续沟通？",
        "好。",
    ]


def test_japanese_quotes() -> None:
    assert texts("林大臣は「協力する。」と述べた。次に進んだ。") == [
        "林大臣は「協力する。」と述べた。",
        "次に進んだ。",
    ]


def test_offsets_with_crlf_and_nbsp() -> None:
    src = "President\u00a0Biden spoke.\r\n\r\nThe two leaders agreed.\r\n"
    assert texts(src) == ["President\u00a0Biden spoke.", "The two leaders agreed."]


def test_seed_date_prefix_is_metadata() -> None:
    doc = parse_document(" date 2021-01-01 Wang Yi spoke with Ebrard. He said hello.")
    assert doc.date == "2021-01-01"
    assert doc.body.startswith("Wang Yi")
    assert doc.sentences[0].text == "Wang Yi spoke with Ebrard."
    assert doc.source[doc.sentences[0].start :].startswith("Wang Yi")


def test_corpus_header_is_metadata() -> None:
    src = "source: https://example.org/x\nissuer: MFA\ndate: 2022-07-06\nlanguage: en\n---\nTitle\n\nThe Minister spoke."
    doc = parse_document(src)
    assert doc.metadata["issuer"] == "MFA"
    assert doc.date == "2022-07-06" and doc.language == "en"
    assert [s.text for s in doc.sentences] == ["Title", "The Minister spoke."]
    assert all(s.start >= doc.body_start for s in doc.sentences)


@pytest.mark.parametrize(
    "src",
    [
        "source: x\nNot a header line\n---\nBody.",  # header broken: everything is body
        "Subject: hello\n---\nBody.",  # no known key
    ],
)
def test_not_a_header(src: str) -> None:
    doc = parse_document(src)
    assert doc.body_start == 0


def test_explicit_metadata_wins() -> None:
    doc = parse_document(" date 2021-01-01 Hi.", metadata={"date": "2020-05-05"})
    assert doc.date == "2020-05-05"


def test_sentence_at() -> None:
    doc = parse_document("One. Two three. Four.")
    assert doc.sentence_at(0).index == 0
    assert doc.sentence_at(6).index == 1
    assert doc.sentence_at(4) is None  # the space between sentences
