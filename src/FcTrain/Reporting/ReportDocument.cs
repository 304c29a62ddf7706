using System.Text;

namespace FcTrain.Reporting;

/// <summary>
/// A report as headings, paragraphs, bullet lists and tables, written out as plain text (aligned columns, for a
/// terminal or a log) or as GitHub Markdown (for <c>$GITHUB_STEP_SUMMARY</c>): one content, two spellings.
/// </summary>
public sealed class ReportDocument
{
    private abstract record Block;
    private sealed record Heading(int Level, string Text) : Block;
    private sealed record Paragraph(string Text) : Block;
    private sealed record Bullets(IReadOnlyList<string> Items) : Block;
    private sealed record Table(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows, bool[] RightAligned) : Block;
    private sealed record Code(IReadOnlyList<string> Lines) : Block;

    private readonly List<Block> _blocks = [];

    public ReportDocument AddHeading(int level, string text) => Add(new Heading(level, text));
    public ReportDocument AddParagraph(string text) => Add(new Paragraph(text));
    public ReportDocument AddBullets(IEnumerable<string> items) => Add(new Bullets(items.ToList()));
    /// <summary>Lines shown verbatim (diagnostics).</summary>
    public ReportDocument AddCode(IEnumerable<string> lines) => Add(new Code(lines.ToList()));

    /// <summary>A table; a column of numbers only is aligned right.</summary>
    public ReportDocument AddTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var list = rows.ToList();
        return Add(new Table(header, list, header.Select((_, i) => list.Count > 0 && list.All(r => IsNumber(r[i]))).ToArray()));
    }

    private static bool IsNumber(string cell) => cell.Length > 0 && cell.All(c => char.IsAsciiDigit(c) || c == ',');

    private ReportDocument Add(Block block)
    {
        _blocks.Add(block);
        return this;
    }

    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case Heading h:
                    if (text.Length > 0) text.Append('\n');
                    text.Append(h.Text).Append('\n');
                    if (h.Level <= 2) text.Append(new string(h.Level == 1 ? '=' : '-', h.Text.Length)).Append('\n');
                    break;
                case Paragraph p:
                    text.Append(p.Text).Append('\n');
                    break;
                case Bullets b:
                    foreach (string item in b.Items) text.Append("  - ").Append(item).Append('\n');
                    break;
                case Code c:
                    foreach (string line in c.Lines) text.Append(line).Append('\n');
                    break;
                case Table t:
                    var widths = t.Header.Select((h, i) => t.Rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
                    foreach (var row in t.Rows.Prepend(t.Header))
                        text.Append("  ").Append(string.Join("  ", row.Select((cell, i) => t.RightAligned[i] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd()).Append('\n');
                    break;
            }
        }
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case Heading h:
                    md.Append('#', h.Level).Append(' ').Append(Escape(h.Text)).Append("\n\n");
                    break;
                case Paragraph p:
                    md.Append(Escape(p.Text)).Append("\n\n");
                    break;
                case Bullets b:
                    foreach (string item in b.Items) md.Append("- ").Append(Escape(item)).Append('\n');
                    md.Append('\n');
                    break;
                case Code c:
                    string fence = c.Lines.Any(l => l.Contains("```", StringComparison.Ordinal)) ? "~~~~" : "```";
                    md.Append(fence).Append('\n');
                    foreach (string line in c.Lines) md.Append(line).Append('\n');
                    md.Append(fence).Append("\n\n");
                    break;
                case Table t:
                    md.Append("| ").Append(string.Join(" | ", t.Header.Select(Escape))).Append(" |\n");
                    md.Append('|').Append(string.Concat(t.RightAligned.Select(r => r ? " ---: |" : " --- |"))).Append('\n');
                    foreach (var row in t.Rows) md.Append("| ").Append(string.Join(" | ", row.Select(Escape))).Append(" |\n");
                    md.Append('\n');
                    break;
            }
        }
        return md.ToString();
    }

    /// <summary>Markdown's active characters in data (ids, names, messages) as literals; line breaks as spaces.</summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '#' or '~') escaped.Append('\\');
            escaped.Append(c is '\n' or '\r' ? ' ' : c);
        }
        return escaped.ToString();
    }
}
