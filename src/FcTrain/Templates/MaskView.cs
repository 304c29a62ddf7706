using System.Text;

namespace FcTrain.Templates;

/// <summary>The rendered text with the trained parts between ⟦ and ⟧ (what <c>fctrain render --mask</c> prints).</summary>
public static class MaskView
{
    public const char Open = '⟦', Close = '⟧';

    public static string Render(IEnumerable<Segment> segments)
    {
        var text = new StringBuilder();
        bool inside = false;
        foreach (var segment in segments)
        {
            if (segment.Trained != inside) { text.Append(segment.Trained ? Open : Close); inside = segment.Trained; }
            text.Append(segment.Text);
        }
        if (inside) text.Append(Close);
        return text.ToString();
    }
}
