using System.Text;
using System.Text.RegularExpressions;

namespace FcTrain.Snapshots;

/// <summary>
/// A unified diff of two texts by lines (longest common subsequence), with git-style hunk headers:
/// each <c>@@ … @@</c> line ends with the nearest preceding "section" line (e.g. a case id), and the
/// sections whose lines changed are listed, so a reader sees which cases moved without reading JSON.
/// </summary>
public sealed class LineDiff
{
    private enum Op { Same, Delete, Insert }

    private readonly List<(Op Op, int Old, int New)> _script;
    private readonly string[] _old, _new;

    private LineDiff(string[] oldLines, string[] newLines)
    {
        _old = oldLines;
        _new = newLines;
        _script = Compute(oldLines, newLines);
    }

    public static LineDiff Of(string oldText, string newText) => new(SplitLines(oldText), SplitLines(newText));

    public bool HasChanges => _script.Any(s => s.Op != Op.Same);

    /// <summary>
    /// The sections whose text differs, was added or was removed (new order first, then removed ones).
    /// A line matching <paramref name="section"/> starts a section (group 1 names it); the section is that
    /// line and the lines below it indented at least as deep. Compared by name, not by line alignment, so
    /// a removed case never reads as a change of its neighbour; trailing commas are ignored (appending an
    /// array element adds one to the element before).
    /// </summary>
    public IReadOnlyList<string> ChangedSections(Regex section)
    {
        var before = Sections(_old, section).ToDictionary(s => s.Name, s => s.Text, StringComparer.Ordinal);
        var after = Sections(_new, section);
        var changed = after.Where(s => !before.TryGetValue(s.Name, out string? text) || text != s.Text).Select(s => s.Name).ToList();
        changed.AddRange(before.Keys.Except(after.Select(s => s.Name)).Order(StringComparer.Ordinal));
        return changed.Distinct().ToList();
    }

    private static List<(string Name, string Text)> Sections(string[] lines, Regex section)
    {
        var sections = new List<(string, string)>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (section.Match(lines[i]) is not { Success: true } m) continue;
            // The section is its header and the lines after it indented at least as deep (the rest of its object).
            int indent = Indent(lines[i]);
            var text = new StringBuilder().AppendLine(lines[i].TrimEnd().TrimEnd(','));
            for (int j = i + 1; j < lines.Length && Indent(lines[j]) >= indent && !section.IsMatch(lines[j]); j++)
                text.AppendLine(lines[j].TrimEnd().TrimEnd(','));
            sections.Add((m.Groups[1].Value, text.ToString()));
        }
        return sections;
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;

    /// <summary>The diff in unified format with <paramref name="context"/> lines around each change.</summary>
    public string Format(string oldName, string newName, Regex? section = null, int context = 3)
    {
        var sb = new StringBuilder();
        sb.Append("--- ").AppendLine(oldName).Append("+++ ").AppendLine(newName);
        int i = 0;
        while (i < _script.Count)
        {
            if (_script[i].Op == Op.Same) { i++; continue; }
            // A hunk: from `context` lines before the first change to `context` lines after the last
            // change that is at most 2*context lines from the next one.
            int start = Math.Max(0, i - context), end = i;
            for (int j = i; j < _script.Count; j++)
            {
                if (_script[j].Op == Op.Same) continue;
                if (j - end > 2 * context) break;
                end = j;
            }
            end = Math.Min(_script.Count - 1, end + context);
            var hunk = _script.GetRange(start, end - start + 1);
            int oldStart = hunk[0].Old, newStart = hunk[0].New;
            int oldCount = hunk.Count(s => s.Op != Op.Insert), newCount = hunk.Count(s => s.Op != Op.Delete);
            string? name = section is null ? null : SectionLine(_old, oldStart - 1, section);
            sb.Append($"@@ -{oldStart + (oldCount > 0 ? 1 : 0)},{oldCount} +{newStart + (newCount > 0 ? 1 : 0)},{newCount} @@");
            sb.AppendLine(name is null ? "" : " " + name.Trim());
            foreach (var (op, o, n) in hunk)
                sb.Append(op switch { Op.Same => ' ', Op.Delete => '-', _ => '+' }).AppendLine(op == Op.Insert ? _new[n] : _old[o]);
            i = end + 1;
        }
        return sb.ToString();
    }

    // The nearest section line at or before `line` (git's hunk-header "function context").
    private static string? SectionLine(string[] lines, int line, Regex section)
    {
        for (int k = Math.Min(line, lines.Length - 1); k >= 0; k--)
            if (section.IsMatch(lines[k])) return lines[k];
        return null;
    }

    private static string[] SplitLines(string text)
    {
        string t = text.Replace("\r\n", "\n");
        if (t.EndsWith('\n')) t = t[..^1];
        return t.Length == 0 ? [] : t.Split('\n');
    }

    // Script entries carry the old and new line indexes at that point (the index of the next line on each side).
    private static List<(Op, int, int)> Compute(string[] a, string[] b)
    {
        int prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix]) prefix++;
        int suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)]) suffix++;
        int n = a.Length - prefix - suffix, m = b.Length - prefix - suffix;
        // lcs[i, j]: length of the LCS of a[prefix+i..] and b[prefix+j..] within the middle part.
        var lcs = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                lcs[i, j] = a[prefix + i] == b[prefix + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var script = new List<(Op, int, int)>(a.Length + b.Length);
        for (int k = 0; k < prefix; k++) script.Add((Op.Same, k, k));
        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && a[prefix + x] == b[prefix + y]) { script.Add((Op.Same, prefix + x, prefix + y)); x++; y++; }
            // Deletions before insertions, as unified diffs show a replaced line.
            else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1])) { script.Add((Op.Delete, prefix + x, prefix + y)); x++; }
            else { script.Add((Op.Insert, prefix + x, prefix + y)); y++; }
        }
        for (int k = 0; k < suffix; k++) script.Add((Op.Same, a.Length - suffix + k, b.Length - suffix + k));
        return script;
    }
}
