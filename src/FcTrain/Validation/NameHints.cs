namespace FcTrain.Validation;

/// <summary>"Did you mean …?" for misspelt names: the nearest known name by edit distance, when near enough.</summary>
internal static class NameHints
{
    public static string DidYouMean(string name, IEnumerable<string> known)
    {
        string? nearest = known.MinBy(k => Distance(k, name));
        return nearest is not null && nearest != name && Distance(nearest, name) <= Math.Max(2, name.Length / 3)
            ? $" (did you mean '{nearest}'?)"
            : "";
    }

    /// <summary>Levenshtein distance, ignoring case.</summary>
    private static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
