using System.Globalization;

namespace FcTrain.Reporting;

/// <summary>A dataset's <c>version</c> (semver 2.0.0, as schemas/dataset.v1.schema.json admits it), ordered by semver precedence.</summary>
public sealed record SemanticVersion(long Major, long Minor, long Patch, string? PreRelease) : IComparable<SemanticVersion>
{
    /// <summary>The version of <paramref name="text"/>, or null when it is not MAJOR.MINOR.PATCH[-PRE][+BUILD].</summary>
    public static SemanticVersion? Parse(string text)
    {
        int plus = text.IndexOf('+');
        string core = plus < 0 ? text : text[..plus];
        int dash = core.IndexOf('-');
        string? pre = dash < 0 ? null : core[(dash + 1)..];
        string[] parts = (dash < 0 ? core : core[..dash]).Split('.');
        if (parts.Length != 3) return null;
        var numbers = new long[3];
        for (int i = 0; i < 3; i++)
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i])) return null;
        return new SemanticVersion(numbers[0], numbers[1], numbers[2], string.IsNullOrEmpty(pre) ? null : pre);
    }

    /// <summary>
    /// Whether this version announces breaking changes over <paramref name="earlier"/>: a higher major, or, while
    /// the major is 0 (semver's initial development), a higher minor, as npm's ^ ranges and Cargo read 0.y.z.
    /// </summary>
    public bool IsMajorBumpOver(SemanticVersion earlier) =>
        Major > earlier.Major || (Major == 0 && earlier.Major == 0 && Minor > earlier.Minor);

    public int CompareTo(SemanticVersion? other)
    {
        if (other is null) return 1;
        int c = Major.CompareTo(other.Major);
        if (c == 0) c = Minor.CompareTo(other.Minor);
        if (c == 0) c = Patch.CompareTo(other.Patch);
        if (c != 0) return c;
        // A pre-release sorts before its release; identifiers compare numerically when both are numbers.
        if (PreRelease is null || other.PreRelease is null) return (PreRelease is null ? 1 : 0) - (other.PreRelease is null ? 1 : 0);
        string[] a = PreRelease.Split('.'), b = other.PreRelease.Split('.');
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            bool an = long.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out long x);
            bool bn = long.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out long y);
            c = an && bn ? x.CompareTo(y) : an ? -1 : bn ? 1 : string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }

    public override string ToString() => $"{Major}.{Minor}.{Patch}{(PreRelease is null ? "" : "-" + PreRelease)}";
}
