"""Telnyx encoding choice, smart encoding and segment splitting."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.encoding import (
    GSM7_SEGMENT_SEPTETS,
    MAX_PARTS,
    SMART_REPLACEMENTS,
    UCS2_SEGMENT_UNITS,
    EncodedText,
    UnencodableText,
    analyze,
    apply_smart_encoding,
    split_segments,
)
from switchboard.domain.gsm7 import GSM7_BASIC, GSM7_EXTENDED, gsm7_length, is_gsm7

EMOJI = "\U0001f600"  # outside the BMP: two UTF-16 code units
CYRILLIC = "Ж"  # BMP, not GSM-7: one UTF-16 code unit


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TestSmartTable:
    def test_size(self) -> None:
        assert 40 <= len(SMART_REPLACEMENTS) <= 120

    def test_keys_are_single_non_gsm7_chars(self) -> None:
        for ch in SMART_REPLACEMENTS:
            assert len(ch) == 1
            assert not is_gsm7(ch), repr(ch)

    def test_replacements_are_gsm7(self) -> None:
        for ch, replacement in SMART_REPLACEMENTS.items():
            assert is_gsm7(replacement), repr(ch)

    @pytest.mark.parametrize(
        ("original", "expected"),
        [
            ("\u201cHi\u201d", '"Hi"'),
            ("\u00abHi\u00bb", '"Hi"'),
            ("it\u2019s", "it's"),
            ("\u2018a\u2019", "'a'"),
            ("a\u2013b\u2014c", "a-b-c"),
            ("wait\u2026", "wait..."),
            ("a\u00a0b\u2009c\u3000d", "a b c d"),
            ("\u2022 item", "- item"),
            ("zero\u200bwidth\ufeff", "zerowidth"),
            ("soft\u00adhyphen", "softhyphen"),
            ("line\u2028break", "line\nbreak"),
            ("a\tb", "a b"),
            ("1\u20442", "1/2"),
        ],
    )
    def test_examples(self, original: str, expected: str) -> None:
        assert apply_smart_encoding(original) == expected

    def test_gsm7_text_is_untouched(self) -> None:
        text = "".join(ch for ch in GSM7_BASIC if ch != "\x1b") + "".join(GSM7_EXTENDED)
        assert apply_smart_encoding(text) == text

    def test_letters_and_joiners_are_untouched(self) -> None:
        family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
        assert apply_smart_encoding("café ç " + family) == "café ç " + family


class TestAnalyzeAuto:
    def test_plain_gsm7(self) -> None:
        assert analyze("Hello") == EncodedText(
            text="Hello", encoding="GSM-7", parts=1, num_chars=5, smart_encoding_applied=False
        )

    def test_smart_encoding_keeps_gsm7(self) -> None:
        result = analyze("\u201cHi\u201d \u2014 there\u2026")
        assert result == EncodedText(
            text='"Hi" - there...',
            encoding="GSM-7",
            parts=1,
            num_chars=15,
            smart_encoding_applied=True,
        )

    def test_smart_off_falls_back_to_ucs2(self) -> None:
        result = analyze("\u201cHi\u201d", smart=False)
        assert result.text == "\u201cHi\u201d"
        assert result.encoding == "UCS-2"
        assert not result.smart_encoding_applied

    def test_replacements_kept_when_text_stays_ucs2(self) -> None:
        result = analyze(f"\u201cHi\u201d {EMOJI}")
        assert result.text == f'"Hi" {EMOJI}'
        assert result.encoding == "UCS-2"
        assert result.smart_encoding_applied

    def test_extra_gsm7_chars_beyond_telnyx_list(self) -> None:
        # Greek capitals, euro, currency and section signs are GSM 03.38 though not in the
        # Telnyx docs' list; they must not force UCS-2.
        assert analyze("ΔΩ €5 ¤ § Ç").encoding == "GSM-7"

    def test_non_gsm7_letter_forces_ucs2(self) -> None:
        result = analyze("café ç")
        assert result.encoding == "UCS-2"
        assert result.text == "café ç"

    def test_replacement_lengthens_past_single_segment(self) -> None:
        result = analyze("\u2026" * 54)
        assert result.text == "..." * 54
        assert result.num_chars == 162
        assert (result.encoding, result.parts) == ("GSM-7", 2)

    def test_empty_text_is_one_part(self) -> None:
        assert analyze("") == EncodedText(
            text="", encoding="GSM-7", parts=1, num_chars=0, smart_encoding_applied=False
        )
        assert split_segments("", "GSM-7") == [""]

    def test_num_chars_counts_code_points(self) -> None:
        result = analyze(EMOJI * 3)
        assert result.num_chars == 3
        assert result.encoding == "UCS-2"

    def test_unknown_mode(self) -> None:
        with pytest.raises(ValueError, match="mode"):
            analyze("x", mode="latin1")  # type: ignore[arg-type]

    def test_result_is_frozen(self) -> None:
        result = analyze("x")
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.parts = 2  # type: ignore[misc]


class TestAnalyzeForced:
    def test_gsm7_applies_smart_encoding(self) -> None:
        result = analyze("\u201cHi\u201d", mode="gsm7")
        assert (result.text, result.encoding, result.smart_encoding_applied) == (
            '"Hi"',
            "GSM-7",
            True,
        )

    def test_gsm7_applies_smart_encoding_even_when_profile_disables_it(self) -> None:
        assert analyze("\u2019", mode="gsm7", smart=False).text == "'"

    def test_gsm7_rejects_unencodable(self) -> None:
        with pytest.raises(UnencodableText) as info:
            analyze(f"\u2026 hi {EMOJI}", mode="gsm7")
        # Index into the text as submitted, before "\u2026" grew to "...".
        assert (info.value.char, info.value.index) == (EMOJI, 5)

    def test_gsm7_rejects_accented_letter(self) -> None:
        with pytest.raises(UnencodableText) as info:
            analyze("ça", mode="gsm7")
        assert info.value.index == 0

    def test_ucs2_skips_smart_encoding(self) -> None:
        result = analyze("\u201cHi\u201d", mode="ucs2")
        assert result == EncodedText(
            text="\u201cHi\u201d",
            encoding="UCS-2",
            parts=1,
            num_chars=4,
            smart_encoding_applied=False,
        )

    def test_ucs2_forces_ucs2_limits_on_ascii(self) -> None:
        assert analyze("a" * 70, mode="ucs2").parts == 1
        assert analyze("a" * 71, mode="ucs2").parts == 2

    def test_ucs2_empty(self) -> None:
        assert analyze("", mode="ucs2").parts == 1


class TestGsm7Segments:
    @pytest.mark.parametrize(
        ("length", "parts"),
        [
            (1, 1),
            (160, 1),
            (161, 2),
            (306, 2),
            (307, 3),
            (459, 3),
            (460, 4),
            (1530, 10),
            (1531, 11),
        ],
    )
    def test_boundaries(self, length: int, parts: int) -> None:
        result = analyze("a" * length)
        assert result.encoding == "GSM-7"
        assert result.parts == parts
        assert result.num_chars == length

    def test_parts_are_not_capped(self) -> None:
        assert analyze("a" * 1531).parts == MAX_PARTS + 1

    def test_concatenated_segments_are_153(self) -> None:
        segments = split_segments("a" * 161, "GSM-7")
        assert [len(s) for s in segments] == [153, 8]

    def test_extension_chars_count_double(self) -> None:
        assert analyze("€" * 80).parts == 1
        assert analyze("€" * 80 + "a").parts == 2
        assert analyze("a" * 159 + "€").parts == 2
        assert analyze("a" * 159 + "€").num_chars == 160

    def test_escape_pair_fits_exactly_at_boundary(self) -> None:
        text = "a" * 151 + "€" + "b" * 10
        assert split_segments(text, "GSM-7") == ["a" * 151 + "€", "b" * 10]

    def test_escape_pair_is_never_split(self) -> None:
        text = "a" * 152 + "€" + "b" * 10
        assert split_segments(text, "GSM-7") == ["a" * 152, "€" + "b" * 10]

    def test_escape_pair_at_boundary_adds_a_part(self) -> None:
        # 306 septets would be two parts by the formula; keeping "€" whole needs three.
        text = "a" * 152 + "€" + "b" * 152
        assert gsm7_length(text) == 2 * GSM7_SEGMENT_SEPTETS
        assert split_segments(text, "GSM-7") == ["a" * 152, "€" + "b" * 151, "b"]
        assert analyze(text).parts == 3

    def test_all_extension_chars(self) -> None:
        segments = split_segments("[" * 100, "GSM-7")
        assert [len(s) for s in segments] == [76, 24]

    def test_unencodable_text_rejected(self) -> None:
        with pytest.raises(UnencodableText):
            split_segments("a" * 200 + EMOJI, "GSM-7")

    def test_unknown_encoding(self) -> None:
        with pytest.raises(ValueError, match="encoding"):
            split_segments("x", "UTF-8")  # type: ignore[arg-type]


class TestUcs2Segments:
    @pytest.mark.parametrize(
        ("length", "parts"),
        [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (670, 10), (671, 11)],
    )
    def test_boundaries(self, length: int, parts: int) -> None:
        result = analyze(CYRILLIC * length)
        assert result.encoding == "UCS-2"
        assert result.parts == parts

    def test_concatenated_segments_are_67(self) -> None:
        assert [len(s) for s in split_segments(CYRILLIC * 71, "UCS-2")] == [67, 4]

    def test_emoji_count_two_units(self) -> None:
        assert analyze(EMOJI * 35).parts == 1
        assert analyze(EMOJI * 36).parts == 2
        assert analyze(EMOJI * 36).num_chars == 36
        assert analyze(CYRILLIC * 69 + EMOJI).parts == 2

    def test_surrogate_pair_fits_exactly_at_boundary(self) -> None:
        text = CYRILLIC * 65 + EMOJI + CYRILLIC * 10
        assert split_segments(text, "UCS-2") == [CYRILLIC * 65 + EMOJI, CYRILLIC * 10]

    def test_surrogate_pair_is_never_split(self) -> None:
        text = CYRILLIC * 66 + EMOJI + CYRILLIC * 10
        assert split_segments(text, "UCS-2") == [CYRILLIC * 66, EMOJI + CYRILLIC * 10]

    def test_surrogate_pair_at_boundary_adds_a_part(self) -> None:
        text = CYRILLIC * 66 + EMOJI + CYRILLIC * 66
        assert utf16_units(text) == 2 * UCS2_SEGMENT_UNITS
        assert analyze(text).parts == 3

    def test_all_emoji(self) -> None:
        segments = split_segments(EMOJI * 36, "UCS-2")
        assert segments == [EMOJI * 33, EMOJI * 3]


# Text mixing GSM-7, extension characters, smart-encoding targets, BMP and astral chars.
mixed_text = st.text(
    alphabet=st.sampled_from(
        ["a", " ", "\n", "€", "[", "\u2019", "\u2026", "\u00a0", CYRILLIC, EMOJI, "é"]
    ),
    max_size=800,
)


class TestProperties:
    @given(mixed_text)
    def test_segments_rebuild_the_sent_text(self, text: str) -> None:
        result = analyze(text)
        segments = split_segments(result.text, result.encoding)
        assert "".join(segments) == result.text
        assert len(segments) == result.parts
        assert result.num_chars == len(result.text)

    @given(mixed_text)
    def test_segments_respect_limits(self, text: str) -> None:
        result = analyze(text)
        segments = split_segments(result.text, result.encoding)
        if result.encoding == "GSM-7":
            sizes = [gsm7_length(s) for s in segments]
            single, multi = 160, GSM7_SEGMENT_SEPTETS
        else:
            sizes = [utf16_units(s) for s in segments]
            single, multi = 70, UCS2_SEGMENT_UNITS
        if len(segments) == 1:
            assert sizes[0] <= single
        else:
            assert sum(sizes) > single
            assert all(0 < size <= multi for size in sizes)
            # Greedy filling leaves at most one unit short per full segment.
            assert all(size >= multi - 1 for size in sizes[:-1])
            assert result.parts >= math.ceil(sum(sizes) / multi)

    @given(st.text(alphabet=st.sampled_from(["a", "b", " ", "."]), max_size=2000))
    def test_formula_holds_without_extension_chars(self, text: str) -> None:
        n = len(text)
        expected = 1 if n <= 160 else math.ceil(n / 153)
        assert analyze(text).parts == expected

    @given(st.text(max_size=300))
    def test_auto_never_raises_and_encoding_matches_content(self, text: str) -> None:
        result = analyze(text)
        assert result.encoding == ("GSM-7" if is_gsm7(result.text) else "UCS-2")
        assert result.smart_encoding_applied == (result.text != text)

    @given(st.text(max_size=300))
    def test_gsm7_mode_succeeds_exactly_when_auto_gives_gsm7(self, text: str) -> None:
        auto = analyze(text)
        if auto.encoding == "GSM-7":
            assert analyze(text, mode="gsm7") == auto
        else:
            with pytest.raises(UnencodableText):
                analyze(text, mode="gsm7")
