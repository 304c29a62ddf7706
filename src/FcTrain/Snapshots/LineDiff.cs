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

    /// <summary>The names of the sections (matches of <paramref name="section"/>'s group 1) that hold a changed line, in order.</summary>
    public IReadOnlyList<string> ChangedSections(Regex section)
    {
        var names = new List<string>();
        foreach (var (op, o, n) in _script)
        {
            string? name = op switch
            {
                Op.Delete => SectionAt(_old, o, section),
                Op.Insert => SectionAt(_new, n, section),
                _ => null,
            };
            if (name is not null && !names.Contains(name)) names.Add(name);
        }
        return names;
    }

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
            string? name = section is null ? null : SectionAt(_old, Math.Max(0, oldStart - 1), section, raw: true);
            sb.Append($"@@ -{oldStart + (oldCount > 0 ? 1 : 0)},{oldCount} +{newStart + (newCount > 0 ? 1 : 0)},{newCount} @@");
            sb.AppendLine(name is null ? "" : " " + name.Trim());
            foreach (var (op, o, n) in hunk)
                sb.Append(op switch { Op.Same => ' ', Op.Delete => '-', _ => '+' }).AppendLine(op == Op.Insert ? _new[n] : _old[o]);
            i = end + 1;
        }
        return sb.ToString();
    }

    // The section line at or before `line`: its group 1, or (raw) the whole line.
    private static string? SectionAt(string[] lines, int line, Regex section, bool raw = false)
    {
        for (int k = Math.Min(line, lines.Length - 1); k >= 0; k--)
            if (section.Match(lines[k]) is { Success: true } m) return raw ? lines[k] : m.Groups[1].Value;
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
