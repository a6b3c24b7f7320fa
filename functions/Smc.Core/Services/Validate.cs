using Smc.Core.Errors;

namespace Smc.Core.Services;

/// <summary>Small input checks that answer with SMC-style codes and a fix-it message.</summary>
internal static class Validate
{
    public static string Name(string? name, string code = ErrorCodes.InvalidName, string field = "name")
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw SmcException.BadRequest(ErrorCodes.MissingParameter, $"{field} is required: give 2–128 characters.");
        }

        string trimmed = name.Trim();
        if (trimmed.Length is < 2 or > 128 || trimmed.Any(char.IsControl))
        {
            throw SmcException.BadRequest(code, $"{field} must be 2–128 printable characters.");
        }

        return trimmed;
    }

    public static string? Description(string? description)
    {
        if (description is null)
        {
            return null;
        }

        if (description.Length > 256 || description.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidDescription, "description must be at most 256 printable characters.");
        }

        return description;
    }

    public static int Range(int? value, int min, int max, int defaultValue, string code, string field)
    {
        int v = value ?? defaultValue;
        if (v < min || v > max)
        {
            throw SmcException.BadRequest(code, $"{field} must be from {min} to {max} (was {v}).");
        }

        return v;
    }
}
