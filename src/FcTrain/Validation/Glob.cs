using System.Text;
using System.Text.RegularExpressions;

namespace FcTrain.Validation;

/// <summary>A manifest glob relative to the dataset folder: <c>*</c> within one folder, <c>**</c> across folders, <c>?</c> one character.</summary>
internal sealed class Glob(string pattern)
{
    private readonly Regex _regex = new(ToRegex(pattern), RegexOptions.CultureInvariant);

    public string Pattern { get; } = pattern;

    /// <summary>Whether a path relative to the dataset folder (with '/') matches.</summary>
    public bool IsMatch(string relativePath) => _regex.IsMatch(relativePath);

    private static string ToRegex(string glob)
    {
        var regex = new StringBuilder("^");
        string g = glob.Replace('\\', '/');
        if (g.StartsWith("./", StringComparison.Ordinal)) g = g[2..];
        for (int i = 0; i < g.Length; i++)
        {
            char c = g[i];
            if (c == '*' && i + 1 < g.Length && g[i + 1] == '*')
            {
                bool slash = i + 2 < g.Length && g[i + 2] == '/';
                regex.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*') regex.Append("[^/]*");
            else if (c == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return regex.Append('$').ToString();
    }
}
