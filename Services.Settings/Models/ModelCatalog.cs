using System.Text.Json;
using System.Text.Json.Serialization;
using AiAssistant.Contracts.Settings;

namespace AiAssistant.Services.Settings.Models;

/// <summary>
/// The built-in models of each provider (context, output, reasoning, price) and the fresh-install allowed lists,
/// kept as data in <c>Models/ai-models.json</c>. Built-in models all accept attachments.
/// </summary>
public sealed class ModelCatalog
{
    public const int CustomContext = 128000;
    public const int CustomOutput = 16000;

    private sealed record Entry(string Provider, string Model, string Name, int Context, int Output, bool Reasoning, double[] Cost);
    private sealed record File(Dictionary<string, string[]> Defaults, Entry[] Models);

    private readonly Dictionary<(string Provider, string Model), Entry> _models;

    public IReadOnlyDictionary<string, string[]> DefaultAllowed { get; }

    private ModelCatalog(File file)
    {
        _models = file.Models.ToDictionary(m => (m.Provider, m.Model));
        DefaultAllowed = file.Defaults;
    }

    public static ModelCatalog Load(string path)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };
        return new ModelCatalog(JsonSerializer.Deserialize<File>(System.IO.File.ReadAllText(path), options)
            ?? throw new InvalidOperationException($"{path} is empty."));
    }

    public static ModelCatalog LoadDefault() => Load(Path.Combine(AppContext.BaseDirectory, "Models", "ai-models.json"));

    /// <summary>The model's definition; an id the catalog does not know gets the reference's generic one.</summary>
    public ProviderModel Describe(string provider, string model) =>
        _models.TryGetValue((provider, model), out var e)
            ? new ProviderModel
            {
                Id = e.Model, Name = e.Name, Context = e.Context, Output = e.Output, Attachment = true, Reasoning = e.Reasoning,
                CostInput = e.Cost[0], CostOutput = e.Cost[1],
            }
            : new ProviderModel { Id = model, Name = model, Context = CustomContext, Output = CustomOutput };
}
