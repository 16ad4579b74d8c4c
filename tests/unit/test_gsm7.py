"""GSM 03.38 tables, septet codec and septet packing."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.gsm7 import (
    ESCAPE,
    GSM7_BASIC,
    GSM7_EXTENDED,
    UnencodableText,
    decode_gsm7,
    encode_gsm7,
    gsm7_length,
    is_gsm7,
    pack_septets,
    unpack_septets,
)

ENCODABLE = [ch for i, ch in enumerate(GSM7_BASIC) if i != ESCAPE] + list(GSM7_EXTENDED)
gsm7_text = st.text(alphabet=st.sampled_from(ENCODABLE), max_size=400)
septets = st.binary(max_size=300).map(lambda b: bytes(x & 0x7F for x in b))


def reference_pack(data: bytes, padding_bits: int) -> bytes:
    """Packing restated as one little-endian integer, independent of the bit loop."""
    if not data:
        return b""
    value = sum(s << (padding_bits + 7 * i) for i, s in enumerate(data))
    length = -(-(padding_bits + 7 * len(data)) // 8)
    return value.to_bytes(length, "little")


class TestTables:
    def test_basic_table_has_one_char_per_septet(self) -> None:
        assert len(GSM7_BASIC) == 128
        assert len(set(GSM7_BASIC)) == 128

    def test_basic_table_landmarks(self) -> None:
        assert GSM7_BASIC[0x00] == "@"
        assert GSM7_BASIC[0x01] == "£"
        assert GSM7_BASIC[0x09] == "Ç"
        assert GSM7_BASIC[0x0A] == "\n"
        assert GSM7_BASIC[0x0D] == "\r"
        assert GSM7_BASIC[0x10] == "Δ"
        assert GSM7_BASIC[0x11] == "_"
        assert GSM7_BASIC[0x20] == " "
        assert GSM7_BASIC[0x24] == "¤"
        assert GSM7_BASIC[0x40] == "¡"
        assert GSM7_BASIC[0x41] == "A"
        assert GSM7_BASIC[0x5F] == "§"
        assert GSM7_BASIC[0x60] == "¿"
        assert GSM7_BASIC[0x61] == "a"
        assert GSM7_BASIC[0x7F] == "à"

    def test_extension_table(self) -> None:
        assert GSM7_EXTENDED == {
            "\f": 0x0A,
            "^": 0x14,
            "{": 0x28,
            "}": 0x29,
            "\\": 0x2F,
            "[": 0x3C,
            "~": 0x3D,
            "]": 0x3E,
            "|": 0x40,
            "€": 0x65,
        }
        assert not set(GSM7_EXTENDED) & set(GSM7_BASIC)

    def test_telnyx_documented_set_is_covered(self) -> None:
        documented = (
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\r "
            "!\"#$%&'()*+,-./:;<=>?@[\\]^_{}|~£¥èéùìòØøÅåÆæßÉ¡ÄÖÑÜ¿äöñüà"
        )
        assert is_gsm7(documented)


class TestIsGsm7:
    @pytest.mark.parametrize("text", ["", "Hello, world!", "€[]{}", "ΔΦΓΛΩΠΨΣΘΞ", "Ç§¤"])
    def test_encodable(self, text: str) -> None:
        assert is_gsm7(text)

    @pytest.mark.parametrize("text", ["ç", "\x1b", "\t", "😀", "“", "á", "Ж", "`"])
    def test_not_encodable(self, text: str) -> None:
        assert not is_gsm7(text)
        assert not is_gsm7("abc" + text)


class TestLength:
    def test_basic_chars_cost_one(self) -> None:
        assert gsm7_length("") == 0
        assert gsm7_length("hello") == 5

    def test_extension_chars_cost_two(self) -> None:
        assert gsm7_length("€") == 2
        assert gsm7_length("a[b]c") == 7
        assert gsm7_length("".join(GSM7_EXTENDED)) == 2 * len(GSM7_EXTENDED)

    def test_unencodable_raises_with_position(self) -> None:
        with pytest.raises(UnencodableText) as info:
            gsm7_length("ab😀c")
        assert info.value.char == "😀"
        assert info.value.index == 2

    @given(gsm7_text)
    def test_length_matches_encoded_size(self, text: str) -> None:
        assert gsm7_length(text) == len(encode_gsm7(text))


class TestEncode:
    def test_basic(self) -> None:
        assert encode_gsm7("@£$") == b"\x00\x01\x02"
        assert encode_gsm7("Hi") == b"\x48\x69"

    def test_extension_is_escaped(self) -> None:
        assert encode_gsm7("a€") == b"\x61\x1b\x65"
        assert encode_gsm7("[x]") == b"\x1b\x3c\x78\x1b\x3e"

    def test_every_basic_char(self) -> None:
        for code, ch in enumerate(GSM7_BASIC):
            if code != ESCAPE:
                assert encode_gsm7(ch) == bytes([code])

    def test_escape_placeholder_is_not_encodable(self) -> None:
        with pytest.raises(UnencodableText):
            encode_gsm7("\x1b")

    def test_unencodable_error(self) -> None:
        with pytest.raises(UnencodableText) as info:
            encode_gsm7("héllo ç")
        err = info.value
        assert (err.char, err.index) == ("ç", 6)
        assert isinstance(err, ValueError)
        assert "U+00E7" in str(err)

    def test_error_survives_pickling(self) -> None:
        err = pickle.loads(pickle.dumps(UnencodableText("😀", 4)))
        assert (err.char, err.index) == ("😀", 4)


class TestDecode:
    def test_whole_alphabet(self) -> None:
        data = bytes(i for i in range(128) if i != ESCAPE)
        assert decode_gsm7(data) == GSM7_BASIC.replace("\x1b", "")

    def test_extension(self) -> None:
        assert decode_gsm7(b"\x1b\x65\x1b\x0a") == "€\f"

    def test_unknown_extension_falls_back_to_basic(self) -> None:
        assert decode_gsm7(b"\x1b\x41") == "A"

    def test_double_and_trailing_escape_show_as_space(self) -> None:
        assert decode_gsm7(b"\x1b\x1bx") == " x"
        assert decode_gsm7(b"ab\x1b") == "ab "

    def test_non_septet_byte_rejected(self) -> None:
        with pytest.raises(ValueError, match="0x80"):
            decode_gsm7(b"a\x80")

    @given(gsm7_text)
    def test_round_trip(self, text: str) -> None:
        assert decode_gsm7(encode_gsm7(text)) == text


class TestPacking:
    @pytest.mark.parametrize(
        ("text", "packed"),
        [
            ("hellohello", "e8329bfd4697d9ec37"),
            ("hello", "e8329bfd06"),
            ("Hello", "c8329bfd06"),
            ("12345678", "31d98c56b3dd70"),
            ("", ""),
        ],
    )
    def test_known_vectors(self, text: str, packed: str) -> None:
        raw = encode_gsm7(text)
        assert pack_septets(raw).hex() == packed
        assert unpack_septets(bytes.fromhex(packed), len(raw)) == raw

    def test_padding_after_concatenation_udh(self) -> None:
        # A 6-octet UDH is 48 bits, so one fill bit aligns the text to septet 7.
        udh_octets = 6
        padding = (7 - (udh_octets * 8) % 7) % 7
        assert padding == 1
        assert pack_septets(encode_gsm7("Hello"), padding).hex() == "906536fb0d"
        assert unpack_septets(bytes.fromhex("906536fb0d"), 5, padding) == encode_gsm7("Hello")

    def test_eight_septets_fill_seven_octets(self) -> None:
        assert len(pack_septets(b"\x41" * 8)) == 7
        assert len(pack_septets(b"\x41" * 9)) == 8

    def test_count_disambiguates_trailing_at_sign(self) -> None:
        packed = pack_septets(encode_gsm7("abcdefg"))
        assert len(packed) == 7
        assert decode_gsm7(unpack_septets(packed, 7)) == "abcdefg"
        assert decode_gsm7(unpack_septets(packed, 8)) == "abcdefg@"

    @pytest.mark.parametrize("padding", [-1, 7, 8])
    def test_padding_out_of_range(self, padding: int) -> None:
        with pytest.raises(ValueError, match="padding_bits"):
            pack_septets(b"a", padding)
        with pytest.raises(ValueError, match="padding_bits"):
            unpack_septets(b"a", 1, padding)

    def test_pack_rejects_non_septets(self) -> None:
        with pytest.raises(ValueError, match="0x80"):
            pack_septets(b"\x80")

    def test_unpack_rejects_short_data(self) -> None:
        with pytest.raises(ValueError, match="cannot hold"):
            unpack_septets(b"\x00" * 7, 9)
        with pytest.raises(ValueError, match="cannot hold"):
            unpack_septets(b"\x00" * 7, 8, padding_bits=1)
        with pytest.raises(ValueError, match="negative"):
            unpack_septets(b"", -1)

    def test_unpack_zero_count(self) -> None:
        assert unpack_septets(b"", 0) == b""
        assert unpack_septets(b"\xff", 0, 3) == b""

    @given(septets, st.integers(min_value=0, max_value=6))
    def test_pack_matches_reference(self, data: bytes, padding: int) -> None:
        assert pack_septets(data, padding) == reference_pack(data, padding)

    @given(septets, st.integers(min_value=0, max_value=6))
    def test_round_trip(self, data: bytes, padding: int) -> None:
        packed = pack_septets(data, padding)
        assert unpack_septets(packed, len(data), padding) == data

    @given(gsm7_text)
    def test_text_round_trip(self, text: str) -> None:
        raw = encode_gsm7(text)
        assert decode_gsm7(unpack_septets(pack_septets(raw), len(raw))) == text
