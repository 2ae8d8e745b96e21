"""What a question commits to (names, numbers, a country, a person) and how the answerer holds it to that."""

import pytest

from app.answer.extractive import is_dated_heading
from app.answer.lexicon import (
    NUMBER_WORDS,
    QUANTITY,
    RELATIVE_TIME,
    countries_in,
    documents_dated,
    name_phrases,
    named_among,
    names_missing,
    nationalities_committed,
    numbers_in,
    people_in,
    same_country,
)
from app.answer.question import QuestionProfile
from app.answer.specifics import counts, states_new_date
from app.terms import TermStats

CORPUS = [  # lower-case uses make "order", "secretary", "cloud" ordinary words, not names
    "The order directs the secretary to act. Huawei Cloud expanded cloud coverage in AI markets.",
    "AI systems and AI chips. AI policy. The AI plan.",
    "Mr. Coons submitted a resolution on AI.",
]


@pytest.fixture(scope="module")
def stats() -> TermStats:
    return TermStats(CORPUS)


def holds(question: str, text: str, stats: TermStats) -> bool:
    return QuestionProfile.build(question, stats).holds_answer_type(text, stats)


def test_countries_are_found_in_their_written_forms():
    found = countries_in("It pitched chips to the UAE, Saudi Arabia and Thailand; Kenyan officials; U.S. firms.")
    assert {"UAE", "Saudi", "Thailand", "Kenyan", "U.S."} <= found
    assert not countries_in("Huawei Cloud and Google DeepMind; the Secretary of Commerce; George spoke.")


def test_people_are_named_by_title_or_given_name(stats):
    assert people_in("Mr. Coons (for himself, Mr. Cotton, Ms. Klobuchar) submitted", stats.is_name) == \
        {"Coons", "Cotton", "Klobuchar"}
    assert people_in("said Ray Wang, founder of Futurum", stats.is_name) == {"Wang"}
    assert people_in("JOSEPH R. BIDEN JR.", stats.is_name) == {"BIDEN"}
    assert not people_in("Huawei Cloud expanded; Google DeepMind showed; the Secretary of Commerce", stats.is_name)


def test_a_question_commits_to_its_names_in_any_form(stats):
    phrases = name_phrases("Which projects has Huawei built in Indonesia for the ICT sector?", stats.is_name)
    assert names_missing(phrases, "Huawei built data centers in Indonesia for the ICT sector.") == []
    assert names_missing(phrases, "Huawei built data centers in Malaysia for the ICT sector.") == ["Indonesia"]
    # an acronym of the question is mentioned by its expansion, and a name by its adjective
    assert names_missing(phrases, "Indonesian and Huawei Information and Communications Technology") == []
    # a capital stands for its country; a nationality adjective qualifies and commits to nothing
    assert names_missing(name_phrases("By what year did Beijing's plan aim?", stats.is_name), "The PRC plan") == []
    assert names_missing(name_phrases("By what year did Beijing's plan aim?", stats.is_name), "The plan") == \
        ["Beijing's"]
    assert names_missing(name_phrases("Which Chinese company sold the American chips?", stats.is_name), "It") == []


def test_a_nationality_commits_to_its_country_only_when_the_corpus_never_mentions_it():
    stats = TermStats(["Chinese firms sold chips in Malaysia.", "Huawei built a data center with a partner."])
    question = "Which Kenyan partner built a data center with Huawei?"
    phrases = nationalities_committed(name_phrases(question, stats.is_name), stats.uses)
    assert ["Kenya"] in [names for names, _ in phrases]  # the question's first word does not hide the next
    assert names_missing(phrases, "Huawei built a data center with a partner.") == ["Kenya"]
    assert names_missing(phrases, "Huawei built a data center in Kenya with Safaricom.") == []
    chinese = nationalities_committed(name_phrases("Which Chinese firm sold chips?", stats.is_name), stats.uses)
    assert names_missing(chinese, "Huawei sold chips.") == []  # the corpus speaks of China: a qualifier


@pytest.mark.parametrize("question, kind", [
    ("By what target year did the plan aim to lead?", "date"),
    ("On exactly which day in April 2025 was the order signed?", "date"),
    ("What was the dollar value of the deal?", "number"),
    ("On which Federal Register page does the order begin?", "number"),
    ("What tariff rate did the United States impose?", "number"),
    ("What is the model that Huawei launched called?", "name"),
    ("Name the three orders the President signed.", None),  # a list, not necessarily of names
    ("What was Huawei's cloud business revenue in 2024?", "number"),
    ("Which department pays for the order's publication?", "name"),
    ("Which specific countries make up the allies?", "name"),
])
def test_what_kind_of_answer_a_question_wants(stats, question, kind):
    assert QuestionProfile.build(question, stats).answer_type == kind


@pytest.mark.parametrize("question, text, expected", [
    ("Which countries are on the list of allies?", "It bolsters U.S. leadership.", False),
    ("Which countries are on the list of allies?", "It covers Japan, Korea and Taiwan.", True),
    ("Which specific countries make up the allies?", "Only Japan is named.", False),
    ("Which country received the first package?", "The Secretary of Commerce shall act.", False),
    ("Which country received the first package?", "The first package went to Malaysia.", True),
    ("Which country did American officials visit?", "U.S. officials travelled.", False),  # the question's own country
    ("What is the name of the official who heads the bureau?", "Google DeepMind showed it.", False),
    ("What is the name of the official who heads the bureau?", "Under Secretary Jeffrey Kessler leads it.", True),
    ("Which department pays for the order's publication?", "President Donald J. Trump signed it.", False),
    ("Which department pays for the order's publication?", "The Department shall act.", False),
    ("Which department pays for the order's publication?", "Costs are borne by the Department of Commerce.", True),
    ("Which department pays for the order's publication?", "The Commerce and State Departments will act.", True),
    ("Which offices review the proposals?", "President Donald J. Trump reviews them.", False),  # plural nouns too
    ("What is the name of the Nicaraguan university Huawei works with?", "A university data center in Nicaragua.",
     False),  # the question's own country in another form is no name of a university
    ("What is the name of the Nicaraguan university Huawei works with?", "It works with the National University.",
     True),
    ("Which company did the Nicaraguan government pick?", "The government of Nicaragua picked it.", False),
    ("Which offices review the proposals?", "The Office of Science and Technology Policy reviews them.", True),
    ("What was Huawei's cloud business revenue in 2024?", "Since 2024, Huawei has helped Algeria.", False),  # a year
    ("How many packages were selected?", "It gets the tools identified in section 4 of this order.", False),
    ("How many packages were selected?", "Executive Order 14320 selects them.", False),  # a reference, not a count
    ("How many packages were selected?", "Three packages were selected.", True),
    ("What tariff rate did the United States impose?", "(3) applauds the efforts; (7) emphasizes exports.", False),
    ("Which senators joined the sponsor?", "Mr. Coons (for himself, Mr. Cotton) submitted it.", True),
    ("What is the name of the model Huawei launched?", "Huawei launched it for AI-driven services.", False),
    ("What is the name of the model Huawei launched?", "Huawei launched it for AI services.", False),  # a topic word
    ("What is the name of the model Huawei launched?", "Huawei launched PanGu for services.", True),
])
def test_the_answer_must_be_of_the_kind_asked_for(stats, question, text, expected):
    assert holds(question, text, stats) is expected


@pytest.mark.parametrize("question", [
    "Which cloud projects has Huawei built in Vietnam?",  # the corpus never mentions Vietnam
    "What did the Commerce Department's 2031 guidance say about Ascend chips?",  # nor that year
])
def test_a_question_about_something_the_passages_never_mention_abstains(assistant, question):
    assert assistant.ask(question).abstained


def test_a_question_about_something_the_passages_mention_is_answered(assistant):
    answer = assistant.ask("Which company did Huawei partner with on cloud services in Pakistan?")
    assert not answer.abstained
    assert "Indus" in answer.answer


@pytest.mark.parametrize("following, joined", [
    ("These included an order on data centers and an order on exports.", True),  # the list it announced
    ("The President spoke for an hour.", False),
])
def test_a_quote_takes_the_sentence_that_lists_what_it_announced(following, joined):
    from app.answer.extractive import Candidate, ExtractiveAnswerer
    from app.schema import Passage

    announcing = "He signed three executive orders that day."
    text = f"Intro line here. {announcing} {following}"
    passage = Passage(id="p", doc_id="d", title="t", text=text, start=100, end=100 + len(text))
    start = 100 + text.index(announcing)
    best = Candidate(passage, 0, start, start + len(announcing), announcing, score=0.5)
    quote = ExtractiveAnswerer._joined_with_next(best, [best]).text
    assert (quote == f"{announcing} {following}") is joined
    assert quote.startswith(announcing)


def test_a_shared_prefix_is_no_shared_country(stats):
    """Malaysia and Malawi share four letters, not a country (the prefix rule made them equal)."""
    assert not same_country("Malaysia", "Malawi")
    assert same_country("Kenya", "Kenyan") and same_country("Nigerian", "Nigeria") and same_country("China", "Chinese")
    phrases = name_phrases("Which projects has Huawei built in Malaysia?", stats.is_name)
    assert names_missing(phrases, "Huawei built a data center in Malawi.") == ["Malaysia"]
    assert names_missing(phrases, "Huawei built a data center in Malaysia.") == []


@pytest.mark.parametrize("word, others, named", [
    ("kenyan", {"kenya"}, True), ("chinese", {"china"}, True), ("malaysian", {"malaysia"}, True),
    ("nigerian", {"nigeria"}, True), ("american", {"america"}, True),
    ("malaysia", {"malawi"}, False), ("malawi", {"malaysia"}, False), ("nigerian", {"niger"}, False),
    ("markovic", {"markovic"}, True), ("valdera", {"valdera’s"}, True), ("brandts", {"brandt"}, True),
    ("petrova", {"markovic"}, False), ("southern", {"northern"}, False),
])
def test_a_word_is_named_by_its_forms_and_a_country_only_by_itself(word, others, named):
    assert named_among(word, others) is named


def test_every_number_word_is_a_number():
    """"sixteen" and "eighty" were missing from the answerer's quantity pattern (one list now: the lexicon)."""

    for word, value in NUMBER_WORDS.items():
        assert QUANTITY.search(f"They seized {word} ships."), word
        assert value in numbers_in(f"They seized {word} ships."), word
    assert counts({"ship"}, "The Navy seized sixteen ships and eighty planes.")


def test_may_the_verb_is_no_date():
    """One date pattern: a heading with "may" the verb does not answer a date question."""

    assert not is_dated_heading("Who may apply")
    assert is_dated_heading("Date: May 12, 2026")
    assert not states_new_date("When will the rule apply?", "The rule may apply to them.")


def test_the_documents_a_text_dates_by_year_and_month():
    assert documents_dated("Biden's March 2023 proclamation and the 2021 order") == [(2023, 3), (2021, None)]
    assert documents_dated("the June 2025 Sunday shows roundup") == [(2025, 6)]
    assert documents_dated("The order may apply in May.") == []  # no year: no month of a year
    # an event's date is no document's: a document's name must follow within a few words
    assert documents_dated("After the April 2024 storms, what did Biden's May 2024 disaster declaration say?") == [(2024, 5)]
    assert documents_dated("in May, 2019, and in 2021, the floods came") == []


@pytest.mark.parametrize("text, quantity", [
    ("The policy governs hiring through October 15, 2025.", False),  # a day of a month is part of a date
    ("No position may be filled until July 7.", False),
    ("The agency filled 15 positions in October.", True),
    ("Alaska gets $272M in federal funds.", True),  # after a currency sign a letter is the scale
    ("Huawei's 910B chip ships next year.", False),  # a code, not a quantity
])
def test_what_counts_as_a_quantity(text, quantity):
    assert bool(QUANTITY.search(text)) is quantity


def test_a_day_of_a_month_counts_nothing():
    assert not counts({"position"}, "The policy governs hiring through October 15, 2025: no position may be filled.")
    assert counts({"position"}, "The order left 15 positions vacant.")


@pytest.mark.parametrize("text, country", [
    ("First, I want to thank our Swiss host.", "Swiss"),  # a final "s" is no possessive
    ("The talks were held in Cyprus.", "Cyprus"),
    ("The French delegation arrived.", "French"),  # a nationality that does not begin with its country's name
    ("China’s chips sold well.", "China’s"),
])
def test_countries_are_found_under_their_names_and_nationalities(text, country):
    assert country in countries_in(text)


@pytest.mark.parametrize("a, b, same", [
    ("Swiss", "Switzerland", True), ("French", "France", True), ("Dutch", "Netherlands", True),
    ("Swiss", "Sweden", False), ("Kenyan", "Kenya", True),
])
def test_a_nationality_names_its_country(a, b, same):
    assert same_country(a, b) is same


@pytest.mark.parametrize("text, relative", [
    ("The tariff expires 1 year after the date of this order.", True),
    ("Report within 180 days of the date of this order.", True),
    ("The Secretary shall act ninety days following the review.", True),
    ("The plan runs for 2 years.", False),  # a duration, counted from nothing
    ("In the days after the storm, aid arrived.", False),  # no number of days
])
def test_a_time_counted_from_an_event(text, relative):
    assert bool(RELATIVE_TIME.search(text)) == relative
