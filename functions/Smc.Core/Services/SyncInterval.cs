using System.Xml;
using Smc.Core.Errors;

namespace Smc.Core.Services;

/// <summary>ISO-8601 durations for <c>syncInterval</c>: <c>PT5M</c> … <c>P7D</c>.</summary>
public static class SyncInterval
{
    public static readonly TimeSpan Min = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan Max = TimeSpan.FromDays(7);

    public static TimeSpan Parse(string? value, TimeSpan? min = null)
    {
        TimeSpan floor = min ?? Min;
        TimeSpan span;
        try
        {
            if (string.IsNullOrWhiteSpace(value) || value.Contains('Y', StringComparison.Ordinal) || value.StartsWith('-'))
            {
                throw new FormatException();
            }

            // Months have no fixed length; refuse them rather than guess.
            int t = value.IndexOf('T', StringComparison.Ordinal);
            string datePart = t < 0 ? value : value[..t];
            if (datePart.Contains('M', StringComparison.Ordinal))
            {
                throw new FormatException();
            }

            span = XmlConvert.ToTimeSpan(value);
        }
        catch (FormatException)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, $"syncInterval '{value}' is not an ISO-8601 duration such as PT5M, PT1H or P1D.");
        }

        if (span < floor || span > Max)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFrequency, $"syncInterval must be from {XmlConvert.ToString(floor)} to P7D (was {value}).");
        }

        return span;
    }
}
