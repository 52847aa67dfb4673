"""Languages as BCP 47 tags (RFC 5646), checked and put in canonical form by `langcodes`."""

from langcodes import standardize_tag, tag_is_valid
from langcodes.tag_parser import LanguageTagError

INVALID = "must be a BCP 47 language tag with a registered language, such as en, pt-BR or zh-Hant"


def canonical_language(value: str) -> str:
    """The canonical form of a language tag: `ENG` → `en`, `ger` → `de`, `pt-br` → `pt-BR`.

    ValueError unless it is a well-formed tag whose language subtag is registered. A private
    use tag (`x-...`) names no language; an underscore is a locale's spelling, not a tag's.
    """
    if "_" in value or not tag_is_valid(value):
        raise ValueError(INVALID)
    try:
        tag = standardize_tag(value)
    except LanguageTagError:
        raise ValueError(INVALID) from None
    if tag.startswith("x-"):
        raise ValueError(INVALID)
    return tag
