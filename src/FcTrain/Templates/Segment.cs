namespace FcTrain.Templates;

/// <summary>
/// One piece of a rendered conversation: text (encoded with special-token parsing off) or one structural
/// token (<c>&lt;bos&gt;</c>, <c>&lt;start_of_turn&gt;</c>, tool markup, written as its piece), and whether the
/// loss trains it. The rendered text and the ids with labels are both read off the same segments.
/// </summary>
public readonly record struct Segment(string Text, bool IsToken, bool Trained)
{
    public static Segment Token(string piece, bool trained = false) => new(piece, true, trained);
    public static Segment Plain(string text, bool trained = false) => new(text, false, trained);
}
