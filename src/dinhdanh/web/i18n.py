"""The pages' translations: gettext catalogs whose msgids are the English text.

- Catalogs: ``web/locale/<lang>/LC_MESSAGES/messages.po`` for ``vi`` and ``en``, read with
  Babel at start-up and compiled in memory (no ``.mo`` file is kept); fuzzy entries are left
  out, as ``msgfmt`` does, so a guessed translation never reaches a page.
- Templates: Jinja2's i18n extension, ``{{ _("Log in") }}``, ``{% trans %}`` with placeholders.
  The language is the template context's ``lang``.
- Python: mark a text with ``N_("...")`` where it is chosen and let the template translate
  it (``{{ _(message) }}``), or translate at once where the text is built:
  ``translations(lang).gettext("...")``, ``.ngettext("one", "%(num)d many", n)``.
- ``make messages`` extracts every marked text (the mapping is ``babel.cfg``) and updates
  both ``.po`` files; a translator then fills the new vi ``msgstr`` (en stays empty: the
  msgid is the English text). tests/web/test_i18n.py fails on any text left untranslated.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 (the name extraction tools look for)
    """Marks ``message`` for extraction; it is translated where it is shown."""
    return message


def catalog_path(lang: str) -> Any:
    return files("dinhdanh.web") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> Translations:
    with catalog_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # use_fuzzy=False
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _lang(context: Context) -> str:
    lang = context.get("lang")
    return lang if lang in LANGS else DEFAULT_LANG


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return str(translations(_lang(context)).gettext(message))


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return str(translations(_lang(context)).ngettext(singular, plural, n))


def install(env: Environment) -> None:
    """Jinja2's i18n extension on ``env``, translating into the context's ``lang``.
    Newstyle gettext: ``_("%(n)s codes", n=3)`` formats and escapes its variables."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True
    )
    for lang in LANGS:  # a broken catalog fails at start-up, not on a page
        translations(lang)
