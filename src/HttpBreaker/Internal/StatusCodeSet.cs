using System.Globalization;

namespace HttpBreaker.Internal;

/// <summary>
/// A set of HTTP status codes parsed from a list such as <c>500-599,408,429</c>.
/// </summary>
internal sealed class StatusCodeSet
{
    public const int MinCode = 100;
    public const int MaxCode = 599;

    private readonly bool[] _contains = new bool[MaxCode + 1];

    private StatusCodeSet()
    {
    }

    public bool Contains(int statusCode) => (uint)statusCode <= MaxCode && _contains[statusCode];

    /// <summary>Tells whether both sets hold the same codes, however their lists were written.</summary>
    public bool SetEquals(StatusCodeSet other) => _contains.AsSpan().SequenceEqual(other._contains);

    /// <summary>
    /// Parses a comma-separated list of codes and inclusive ranges.
    /// </summary>
    /// <param name="text">The list, such as <c>500-599,408</c>. Spaces around items are allowed.</param>
    /// <param name="set">The parsed set, or <see langword="null"/> when the list is invalid.</param>
    /// <param name="error">What is wrong with the list, or <see langword="null"/> when it is valid.</param>
    public static bool TryParse(string? text, out StatusCodeSet? set, out string? error)
    {
        set = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the list is empty";
            return false;
        }

        var parsed = new StatusCodeSet();
        List<string>? invalidItems = null;
        foreach (string rawItem in text.Split(','))
        {
            string item = rawItem.Trim();
            int dash = item.IndexOf('-', StringComparison.Ordinal);
            string firstText = dash < 0 ? item : item[..dash].Trim();
            string lastText = dash < 0 ? item : item[(dash + 1)..].Trim();

            if (!TryParseCode(firstText, out int first) || !TryParseCode(lastText, out int last) || first > last)
            {
                (invalidItems ??= []).Add($"'{item}'");
                continue;
            }

            for (int code = first; code <= last; code++)
            {
                parsed._contains[code] = true;
            }
        }

        if (invalidItems is not null)
        {
            string verb = invalidItems.Count == 1 ? "is not a status code or a range" : "are not status codes or ranges";
            error = $"{string.Join(", ", invalidItems)} {verb} such as 500-599 within {MinCode}-{MaxCode}";
            return false;
        }

        set = parsed;
        error = null;
        return true;
    }

    private static bool TryParseCode(string text, out int code) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out code) && code is >= MinCode and <= MaxCode;
}
