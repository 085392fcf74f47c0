import pytest

from netzone.paging import InvalidPageToken, PageTokens

TOKENS = PageTokens(b"k" * 32)


def test_a_token_opens_only_for_the_list_and_scope_it_was_issued_for():
    token = TOKENS.seal("MEMBER#lku", "/members|-")
    assert TOKENS.open(token, "/members|-") == "MEMBER#lku"
    for other in ("/members|lku", "/providers|-", "/members|- "):
        with pytest.raises(InvalidPageToken):
            TOKENS.open(token, other)


def test_an_edited_or_foreign_token_is_refused():
    token = TOKENS.seal("LIBRARY#lku#main", "/members/lku/libraries|lku")
    payload, mac = token.split(".")
    forged = PageTokens(b"x" * 32).seal("LIBRARY#pcc#main", "/members/lku/libraries|lku")
    same_prefix = TOKENS.seal("LIBRARY#lku#zzz", "/members/lku/libraries|lku").split(".")[0] + "." + mac
    for bad in ("garbage", "", f"{payload}.", f"{payload}.{mac}x", forged, same_prefix, "a" * 5000):
        with pytest.raises(InvalidPageToken):
            TOKENS.open(bad, "/members/lku/libraries|lku")


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        PageTokens(b"short")
