from app.sentences import sentence_spans, split_sentences

TEXT = (
    "In May, the U.S. Commerce Department issued guidance warning that companies risked violating "
    "export controls. The same month, Mr. Smith left.\n\nSee Sec. 3 of No. 96.  \n  \nA new paragraph"
)


def test_abbreviations_do_not_end_sentences():
    sentences = [TEXT[s:e] for s, e in sentence_spans(TEXT)]
    assert sentences[0].startswith("In May, the U.S. Commerce Department")
    assert sentences[0].endswith("export controls.")
    assert "The same month, Mr. Smith left." in sentences
    assert "See Sec. 3 of No. 96." in sentences
    assert sentences[-1] == "A new paragraph"


def test_two_initials_do_not_end_sentences():
    text = ("This AI race is what Vice President J.D. Vance has called our opportunity. The bill passed as "
            "H.J. Res. 42 in the House. Made in the U.S. The company grew.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "This AI race is what Vice President J.D. Vance has called our opportunity.",
        "The bill passed as H.J. Res. 42 in the House.", "Made in the U.S.", "The company grew."]


def test_a_title_before_a_name_ends_no_sentence():
    """punkt ends a sentence at "Mr." before a word that often starts sentences ("President")."""
    text = ("Secretary Hegseth: “Amen, Mr. President.” Rep. Smith (R-Tex.) said it was a great day. "
            "Dr. Jones agreed.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Secretary Hegseth: “Amen, Mr. President.”", "Rep. Smith (R-Tex.) said it was a great day.",
        "Dr. Jones agreed."]


def test_a_speakers_title_in_capitals_ends_no_sentence():
    """Transcripts write "MR. BRIGHT:"; punkt ended a sentence after "MR." and the speaker lost his title."""
    text = "THE PRESIDENT: Did you think you were going to make it?\nMR. BRIGHT: We did not think so."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "THE PRESIDENT: Did you think you were going to make it?", "MR. BRIGHT: We did not think so."]


def test_a_list_items_number_stays_with_its_item():
    """punkt ended a sentence after "1." before a capital: the number stood alone as a sentence."""
    text = ("The framework has six objectives:\n1. Protecting Children: Parents are best equipped to act.\n"
            "2. Growth: More growth.\n\nSec. 2. Policy. It is the policy of the United States to act.\n"
            "(b) The Secretary shall act.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "The framework has six objectives:", "1. Protecting Children: Parents are best equipped to act.",
        "2. Growth: More growth.", "Sec. 2. Policy.", "It is the policy of the United States to act.",
        "(b) The Secretary shall act."]


def test_spans_are_exact_offsets_and_pieces_rejoin():
    for start, end in sentence_spans(TEXT):
        assert TEXT[start:end].strip() == TEXT[start:end]
    assert "".join(split_sentences(TEXT)) == TEXT


def test_legal_citations_do_not_end_sentences():
    text = ("By the authority of the Act (50 U.S.C. 1701 et seq.) (IEEPA), the National Emergencies Act "
            "(50 U.S.C. 1601 et seq.), and section 301, I find a threat. Smith et al. agree.")
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [text[:text.index(" Smith")], "Smith et al. agree."]


def test_each_list_item_is_its_own_sentence():
    text = ("Since 2020:\n- In January 2025, he signed an order. It reversed one.\n- In April 2025, he signed one\n"
            "  on education.\n(a) The costs. (b) Other costs.")
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert "- In January 2025, he signed an order." in sentences
    assert "- In April 2025, he signed one\n  on education." in sentences  # a wrapped item stays whole
    assert "(b) Other costs." in sentences
    assert "".join(split_sentences(text)) == text
