"""Task families: one GSM-Hard problem turned into a generator of variants with exact answers.

The numbers of the problem become parameters of both its text and its
program, so any number of variants can be drawn; each answer is recomputed by
running the program in the sandbox (the dataset's targets are noisy). Numbers
are rendered in a format drawn per number (plain, commas, words), sentences
that commute are shuffled and a distractor may be added, so a plan cannot
fit one surface form of the problem.

One job per module: `model` (the pydantic models), `rules` (the checks that
tie parameters, program and template together), `render` (the text),
`runner` (programs in the sandbox), `sample` (drawing variants), `derive`
(the teacher's prompt and the checks against the source record), `files`
(YAML and JSON files).
"""

from .derive import DERIVE_INSTRUCTIONS, VERIFY_DRAWS, derive_family, verify_family
from .files import dumps_family, load_family, loads_family, save_family
from .model import (
                    ALL_FORMATS,
                    MAX_ABS_INT,
                    ROUND_FROM,
                    ROUND_RATE,
                    DerivedBy,
                    Family,
                    FamilyDraft,
                    NumberFormat,
                    ParamSpec,
                    Source,
                    Template,
                    Variant,
                    parse_family,
)
from .render import IRRELEVANT_RATE, parse_number, render_number, render_original
from .rules import check_draft
from .sample import MAX_ATTEMPTS_PER_VARIANT, SampleResult, draw_variants, sample_family

__all__ = ["ALL_FORMATS", "DERIVE_INSTRUCTIONS", "IRRELEVANT_RATE", "MAX_ABS_INT", "MAX_ATTEMPTS_PER_VARIANT",
           "ROUND_FROM", "ROUND_RATE", "VERIFY_DRAWS", "DerivedBy", "Family", "FamilyDraft", "NumberFormat",
           "ParamSpec", "SampleResult", "Source", "Template", "Variant", "check_draft", "derive_family",
           "draw_variants", "dumps_family", "load_family", "loads_family", "parse_family", "parse_number",
           "render_number", "render_original", "sample_family", "save_family", "verify_family"]
