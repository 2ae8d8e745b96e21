"""Reading what models write (app/answer/claims.py): one table per form, each row as a real model
writes it and what the user must read (`clean`), with the passages it cites."""

import pytest

from app.answer.claims import Claim, dangling, finished, split_claims

SENTENCE = "The terminal opened in March 2023."

# (as written, cited passages, as the user reads it)
CITATION_FORMS = [
    ("The terminal opened in March 2023 [1].", [1], SENTENCE),
    ("The terminal opened in March 2023 [1][2].", [1, 2], SENTENCE),
    ("The terminal opened in March 2023 [1, 3].", [1, 3], SENTENCE),
    ("The terminal opened in March 2023 [2-4].", [2, 3, 4], SENTENCE),
    ("Both did [1, 3-4][2].", [1, 3, 4, 2], "Both did."),
    ("The terminal opened in March 2023 [Passage 2].", [2], SENTENCE),
    ("The terminal opened in March 2023 [Passages 1 and 2].", [1, 2], SENTENCE),
    ("The terminal opened in March 2023 [Source 1].", [1], SENTENCE),
    ("The terminal opened in March 2023 (Source 2).", [2], SENTENCE),
    ("The terminal opened in March 2023 (Passage 1).", [1], SENTENCE),
    ("The terminal opened in March 2023 (see passage 2).", [2], SENTENCE),
    ("The terminal opened in March 2023.[^1]", [1], SENTENCE),
    ("The terminal opened in March 2023 [^2].", [2], SENTENCE),
    ("Passage 1 says that the terminal opened in March 2023.", [1], SENTENCE),
    ("Passage 3 states the terminal opened in March 2023.", [3], SENTENCE),
    ("According to passage 3, the terminal opened in March 2023.", [3], SENTENCE),
    ("As stated in passage 2, the terminal opened in March 2023.", [2], SENTENCE),
    ("The terminal opened in March 2023, according to passage 2.", [2], SENTENCE),
    ("Passage 2: The terminal opened in March 2023.", [2], SENTENCE),
    ("The dam generates 120 megawatts (2022).", [], "The dam generates 120 megawatts (2022)."),  # a year, no marker
]


@pytest.mark.parametrize("written, cited, clean", CITATION_FORMS)
def test_citation_forms(written, cited, clean):
    claim = Claim.parse(written)
    assert (claim.cited, claim.clean, claim.filler) == (cited, clean, False)


MARKDOWN = [
    ("- The terminal opened in March 2023 [1].", SENTENCE),
    ("* The terminal opened in March 2023 [1].", SENTENCE),
    ("2. The terminal opened in March 2023 [1].", SENTENCE),
    ("**The terminal** opened in *March 2023* [1].", SENTENCE),
    ("__The terminal__ opened in _March 2023_ [1].", SENTENCE),
    ("The `terminal` opened in [March 2023](https://example.org) [1].", SENTENCE),
    ("> The terminal opened in March 2023 [1].", SENTENCE),
    ("- **Opening:** the terminal opened in March 2023 [1].", "Opening: the terminal opened in March 2023."),
    ("The deep_water terminal opened [1].", "The deep_water terminal opened."),  # a word's underscore stays
]


@pytest.mark.parametrize("written, clean", MARKDOWN)
def test_markdown_is_not_shown(written, clean):
    claim = Claim.parse(written)
    assert claim.clean == clean and claim.cited == [1] and not claim.filler


PREAMBLES = [
    ("Sure! Based on the passages, here is the answer: the terminal opened in March 2023 [1].", SENTENCE),
    ("Answer: The terminal opened in March 2023 [1].", SENTENCE),
    ("**Answer:** The terminal opened in March 2023 [1].", SENTENCE),
    ("Based on the provided passages, the terminal opened in March 2023 [1].", SENTENCE),
    ("Certainly. According to the passages: the terminal opened in March 2023 [1].", SENTENCE),
    ("In summary, the terminal opened in March 2023 [1].", SENTENCE),
    ("Yes, the terminal opened in March 2023 [1].", SENTENCE),
    ("Great Wall builders opened a terminal [1].", "Great Wall builders opened a terminal."),  # no courtesy
    ("In the context of trade, the terminal opened [1].", "In the context of trade, the terminal opened."),
]


@pytest.mark.parametrize("written, clean", PREAMBLES)
def test_preambles_are_not_part_of_the_claim(written, clean):
    assert Claim.parse(written).clean == clean


FILLER = ["Sure!", "Answer:", "Here is the answer:", "Sure! Based on the passages, here is the answer:",
          "## Answer", "### The Valdera terminal opened in 2023", "**Answer**", "Sources:", "I hope this helps!",
          "_I hope this helps!_", "Let me know if you have any other questions.", "[^1]: Passage 1.",
          "[1] Valdera opens its deep-water terminal", "1.", "---", "I'm sorry."]


@pytest.mark.parametrize("written", FILLER)
def test_filler_makes_no_claim(written):
    claim = Claim.parse(written)
    assert claim.filler and not claim.states_something() and not claim.is_refusal()
    assert split_claims(written)[0] == []


REFUSALS = [
    "The passages do not answer this question.",
    "I'm sorry, but the passages don't mention who won the regatta.",
    "I’m sorry, but the passages don’t mention who won the regatta.",
    "There is no information about the regatta in the provided passages.",
    "The provided text does not specify who won.",
    "I cannot find the winner of the regatta.",
    "Unfortunately, the passages do not contain any details about a regatta.",
    "The winner is not mentioned in the given context.",
    "I don't know.",
]
NOT_REFUSALS = [
    "The dam does not include a fish ladder.",  # a claim about the world, not about the passages
    "The passages do not say what it cost [1].",  # cited: checked like any claim
    "The terminal opened in March 2023 [1].",
]


@pytest.mark.parametrize("written", REFUSALS)
def test_refusals_in_many_wordings(written):
    assert Claim.parse(written).is_refusal()


@pytest.mark.parametrize("written", NOT_REFUSALS)
def test_claims_that_are_not_refusals(written):
    assert not Claim.parse(written).is_refusal()


def test_a_sentence_repeated_in_another_form_has_the_same_key():
    forms = ["The terminal opened in March 2023 [1].", "**The terminal opened in March 2023** (Source 2).",
             "According to passage 1, the terminal opened in March 2023.", "- The terminal opened in March 2023!"]
    assert len({Claim.parse(form).key for form in forms}) == 1
    assert Claim.parse("The terminal opened in May 2023 [1].").key != Claim.parse(forms[0]).key


# (streamed so far, finished sentences, the rest still growing)
STREAMING = [
    ("It opened in March 2023. [1] It cost 410 million euros. [2", ["It opened in March 2023."], "It cost"),
    ("It opened in March 2023. [Passage 1", [], "It opened"),
    ("It opened in March 2023. (Sour", [], "It opened"),
    ("It opened in March 2023.[^", [], "It opened"),
    ("It opened in March 2023. (Source 1) It", ["It opened in March 2023."], "It"),
    ("It opened in March 2023 [1]. It cost", ["It opened in March 2023."], "It cost"),
]


@pytest.mark.parametrize("text, claims, rest", STREAMING)
def test_a_sentence_waits_for_markers_still_being_written(text, claims, rest):
    found, remaining = split_claims(text, final=False)
    assert [c.clean for c in found] == claims and remaining.startswith(rest)


def test_markers_after_the_full_stop_stay_with_their_sentence():
    claims = split_claims("It opened in March 2023. [1] It cost 410 million euros. (Source 2)")[0]
    assert [(c.clean, c.cited) for c in claims] == [("It opened in March 2023.", [1]), ("It cost 410 million euros.", [2])]
    assert [c.clean for c in split_claims("- first item [1]\n- second item [2]")[0]] == ["First item", "Second item"]
    footnoted = split_claims("It opened in March 2023.[^1] It cost 410 million euros.[^2]\n\n[^1]: Passage 1.\n[^2]: Passage 2.")
    assert [(c.clean, c.cited) for c in footnoted[0]] == [("It opened in March 2023.", [1]), ("It cost 410 million euros.", [2])]


# (a completion that ended, whether the server said it was cut off, the sentences kept, what was left out)
CUT_OFF = [
    ("It opened in March 2023 [1]. It cost 410 million", True, ["It opened in March 2023."], "It cost 410 million"),
    ("It opened in March 2023 [1]. It cost 410 million [1", True, ["It opened in March 2023."], "It cost"),
    ("According to passage 1, the director said the terminal doubles", True, [], "According to passage 1"),
    ("It opened in March 2023 [1]. It cost 410 million euros [1].", True,
     ["It opened in March 2023.", "It cost 410 million euros."], ""),
    ("It opened in March 2023 [1]. **It cost 410 million euros.** [1]", True,
     ["It opened in March 2023.", "It cost 410 million euros."], ""),
    ("It opened in March 2023 [1]. It cost 410 million euros [1]", False,  # stopped on its own: finished
     ["It opened in March 2023.", "It cost 410 million euros"], ""),
]


@pytest.mark.parametrize("text, cut_off, claims, left_out", CUT_OFF)
def test_an_unfinished_last_sentence_is_left_out_when_cut_off(text, cut_off, claims, left_out):
    found, rest = split_claims(text, final=True, cut_off=cut_off)
    assert [c.clean for c in found] == claims
    assert rest.startswith(left_out) and bool(rest) == bool(left_out)


@pytest.mark.parametrize("sentence, done", [
    ("It opened in March 2023.", True), ("It opened in March 2023 [1].", True), ("Did it open?", True),
    ("He said “it opened.”", True), ("(It opened.)", True), ("**It opened.**", True),
    ("It opened in March 2023 [1]", False), ("It opened in", False), ("It cost 410 million [1", False),
])
def test_finished_sentences(sentence, done):
    assert finished(sentence) == done


@pytest.mark.parametrize("sentence, broke_off", [
    ("The agreement was concluded on or.", True),
    ("The passage that continues the emergency declared in Executive Order 13694 is.", True),
    ("It was signed by the.", True),
    ("The agreement was concluded on November 23, 2011.", False),
    ("The order covers quantum computing and AI.", False),
    ("That is what the order is for.", False),  # a preposition can end a sentence
])
def test_a_sentence_that_ends_on_a_function_word_broke_off(sentence, broke_off):
    assert dangling(sentence) is broke_off
