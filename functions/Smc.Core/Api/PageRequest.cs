using Smc.Core.Errors;

namespace Smc.Core.Api;

public sealed record PageRequest(int PageNumber, int PageSize)
{
    public const int MaxPageSize = 50;

    public static PageRequest Parse(string? pageNumber, string? pageSize)
    {
        int number = 1, size = 10;
        if (pageNumber is not null && (!int.TryParse(pageNumber, out number) || number < 1 || number > 1_000_000))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidPageNumber, "pageNumber must be a whole number from 1.");
        }

        if (pageSize is not null && (!int.TryParse(pageSize, out size) || size < 1 || size > MaxPageSize))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidPageSize, $"pageSize must be a whole number from 1 to {MaxPageSize}.");
        }

        return new PageRequest(number, size);
    }

    public Page<T> Apply<T>(IReadOnlyList<T> all) =>
        new(all.Count, PageNumber, PageSize, all.Skip((PageNumber - 1) * PageSize).Take(PageSize).ToList());
}
