using System.Text;
using System.Text.RegularExpressions;

namespace FcTrain.Data;

/// <summary>
/// The file globs of a dataset manifest, relative to the dataset folder: <c>*</c> and <c>?</c> within one
/// path segment, <c>**</c> across segments (e.g. <c>conversations/**/*.jsonl</c>). Matching is ordinal (case-sensitive).
/// </summary>
internal static class Glob
{
    /// <summary>The files under <paramref name="directory"/> matching <paramref name="pattern"/>, as full paths, sorted ordinally.</summary>
    public static IReadOnlyList<string> Match(string directory, string pattern, IReadOnlyList<string> files)
    {
        string normalized = pattern.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal)) normalized = normalized[2..];
        var regex = ToRegex(normalized);
        return files.Where(f => regex.IsMatch(Path.GetRelativePath(directory, f).Replace('\\', '/')))
                    .Order(StringComparer.Ordinal)
                    .ToList();
    }

    /// <summary>Whether a pattern names something outside its folder: an absolute path or a '..' segment.</summary>
    public static bool LeavesFolder(string pattern)
    {
        string normalized = pattern.Replace('\\', '/');
        return normalized.StartsWith('/') || Path.IsPathRooted(pattern) || normalized.Split('/').Contains("..");
    }

    private static Regex ToRegex(string pattern)
    {
        var text = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" matches zero or more whole folders; a trailing "**" matches everything below.
                bool slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                text.Append(slash ? "(?:[^/]+/)*" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*') text.Append("[^/]*");
            else if (c == '?') text.Append("[^/]");
            else text.Append(Regex.Escape(c.ToString()));
        }
        // Linear time whatever the pattern: a manifest cannot make matching hang.
        return new Regex(text.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }
}
