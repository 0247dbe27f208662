namespace AiAssistant.Services.Tools.Content.Query;

/// <summary><c>limit</c>, <c>offset</c> and <c>page</c> resolved against the configured default and maximum.</summary>
internal static class Paging
{
    /// <summary>The row limit (null = all) and the offset; <paramref name="name"/> prefixes error messages inside <c>deep</c>.</summary>
    public static (int? Limit, int Offset) Resolve(ItemQuery query, QueryLimits limits, string name)
    {
        string Param(string p) => name.Length == 0 ? p : $"{name}[_{p}]";
        var limit = query.Limit ?? limits.DefaultLimit;
        if (limit == -1 && limits.MaxLimit is { } max) limit = max;
        else if (limits.MaxLimit is { } most && limit > most)
            throw QueryErrors.Invalid($"\"{Param("limit")}\" can't be more than {most}.");
        var offset = query.Offset ?? 0;
        if (query.Page is { } page && page > 1)
        {
            if (limit == -1) throw QueryErrors.Invalid($"\"{Param("page")}\" needs a \"{Param("limit")}\" other than -1.");
            offset = (int)Math.Min(int.MaxValue, (long)(page - 1) * limit);
        }
        return (limit == -1 ? null : limit, offset);
    }
}
