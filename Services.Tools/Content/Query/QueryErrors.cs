using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// The query language's two failures. Unknown and forbidden names raise the same 403, as in Directus, so a caller
/// cannot learn which collections and fields exist beyond those it may read.
/// </summary>
public static class QueryErrors
{
    public static DirectusException Invalid(string reason) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery, $"Invalid query. {reason}",
            new Dictionary<string, object?> { ["reason"] = reason });

    public static DirectusException ForbiddenField(string field, string collection) =>
        DirectusException.Forbidden($"You don't have permission to access field \"{field}\" in collection \"{collection}\" or it does not exist.");

    public static DirectusException ForbiddenCollection(string collection) =>
        DirectusException.Forbidden($"You don't have permission to access collection \"{collection}\" or it does not exist.");
}
