using Smc.Core.Errors;

namespace Smc.Core.Domain;

/// <summary>
/// Tags (issue 19) on sources, jobs, templates and waves: key/value pairs an operator sorts a fleet by, filterable in
/// lists (<c>?tag=key</c> or <c>?tag=key:value</c>) and carried to what a job makes — ECS images (<c>ImportImage</c>'s
/// <c>Tag.N.Key</c>/<c>Tag.N.Value</c>) and container images (OCI config labels). The rules are ECS's own, so a tag
/// accepted here is accepted by ImportImage: at most 20, a key of 1–128 characters that doesn't start with
/// <c>aliyun</c> or <c>acs:</c> and holds no <c>http://</c> or <c>https://</c>, a value of 0–128 with no such URL start.
/// </summary>
public static class Tags
{
    public const int MaxCount = 20;
    public const int MaxLength = 128;

    /// <summary>The tags as given, checked; null stays null (the field not given).</summary>
    public static Dictionary<string, string>? Check(Dictionary<string, string>? tags, string field = "tags")
    {
        if (tags is null)
        {
            return null;
        }

        if (tags.Count > MaxCount)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidTag, $"{field} holds {tags.Count} tags; at most {MaxCount} are allowed (ECS's limit).");
        }

        var checkedTags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, string? value) in tags)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxLength || key.StartsWith("aliyun", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("acs:", StringComparison.OrdinalIgnoreCase) || HasUrl(key) || key.Any(char.IsControl))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidTag, $"{field}: the key '{Shown(key)}' is not allowed: a key has 1–{MaxLength} characters, doesn't start with 'aliyun' or 'acs:' and holds no 'http://' or 'https://' (ECS's rules).");
            }

            string v = value ?? "";
            if (v.Length > MaxLength || HasUrl(v) || v.Any(char.IsControl))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidTag, $"{field}: the value of '{key}' is not allowed: a value has 0–{MaxLength} characters and holds no 'http://' or 'https://' (ECS's rules).");
            }

            checkedTags[key] = v;
        }

        return checkedTags;
    }

    /// <summary>The tags of each layer, a later one's value winning for the same key (e.g. a source's, then its job's).</summary>
    public static Dictionary<string, string> Merge(params IEnumerable<IReadOnlyDictionary<string, string>?> layers)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (IReadOnlyDictionary<string, string>? layer in layers)
        {
            foreach ((string key, string value) in layer ?? new Dictionary<string, string>())
            {
                merged[key] = value;
            }
        }

        return merged;
    }

    private static bool HasUrl(string text) =>
        text.Contains("http://", StringComparison.OrdinalIgnoreCase) || text.Contains("https://", StringComparison.OrdinalIgnoreCase);

    private static string Shown(string key) => key.Length > 40 ? key[..40] + "…" : key;
}

/// <summary>
/// A list's tag filter: each <c>tag</c> query value is <c>key</c> (the tag is present) or <c>key:value</c> (present with
/// that value; split at the first colon); a record matches when it matches every one.
/// </summary>
public sealed class TagFilter
{
    private readonly List<(string Key, string? Value)> _terms;

    private TagFilter(List<(string Key, string? Value)> terms) => _terms = terms;

    public static TagFilter None { get; } = new([]);

    public bool IsEmpty => _terms.Count == 0;

    public static TagFilter Parse(IEnumerable<string>? values)
    {
        var terms = new List<(string, string?)>();
        foreach (string term in values ?? [])
        {
            int colon = term.IndexOf(':', StringComparison.Ordinal);
            string key = colon < 0 ? term : term[..colon];
            if (key.Length is 0 or > Tags.MaxLength)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidTag, $"tag filter '{term}': give tag=KEY or tag=KEY:VALUE (a key of 1–{Tags.MaxLength} characters).");
            }

            terms.Add((key, colon < 0 ? null : term[(colon + 1)..]));
        }

        return new TagFilter(terms);
    }

    public bool Matches(IReadOnlyDictionary<string, string>? tags) =>
        _terms.All(t => tags is not null && tags.TryGetValue(t.Key, out string? v) && (t.Value is null || string.Equals(v, t.Value, StringComparison.Ordinal)));
}
