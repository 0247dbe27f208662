using System.Text.Json.Nodes;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>
/// <c>search({query})</c>: BM25 (k1 1.2, b 0.75) over each tool's fields weighted as the reference does — name 3,
/// keywords 2, description 2, argument names 1, instructions 1 — with a tool whose name is the query first. Built
/// once over every non-root tool; visibility is applied per query.
/// </summary>
public sealed class ToolSearchIndex
{
    private const double K1 = 1.2, B = 0.75;
    private sealed record Document(ToolManifest Tool, Dictionary<string, double> Frequencies, double Length);

    private readonly List<Document> _documents = [];
    private readonly Dictionary<string, int> _documentFrequency = new(StringComparer.Ordinal);
    private readonly double _averageLength;

    public ToolSearchIndex(IEnumerable<ToolManifest> tools)
    {
        foreach (var tool in tools.Where(t => !t.Root))
        {
            var frequencies = new Dictionary<string, double>(StringComparer.Ordinal);
            var length = 0.0;
            void Add(string text, double weight)
            {
                foreach (var token in Tokens(text))
                {
                    frequencies[token] = frequencies.GetValueOrDefault(token) + weight;
                    length += weight;
                }
            }
            Add(tool.Name, 3);
            foreach (var keyword in tool.Keywords) Add(keyword, 2);
            Add(tool.Description, 2);
            if (tool.InputSchema["properties"] is JsonObject properties)
                foreach (var (argument, _) in properties) Add(argument, 1);
            Add(tool.Instructions, 1);
            foreach (var token in frequencies.Keys) _documentFrequency[token] = _documentFrequency.GetValueOrDefault(token) + 1;
            _documents.Add(new Document(tool, frequencies, length));
        }
        _averageLength = _documents.Count == 0 ? 1 : _documents.Average(d => d.Length);
    }

    /// <summary>The visible tools matching <paramref name="query"/>, best first.</summary>
    public IReadOnlyList<ToolManifest> Search(string query, Func<ToolManifest, bool> visible)
    {
        var exact = query.Trim();
        var terms = Tokens(query).Distinct().ToList();
        var scored = new List<(ToolManifest Tool, double Score)>();
        var n = _documents.Count;
        foreach (var document in _documents)
        {
            if (!visible(document.Tool)) continue;
            var score = 0.0;
            foreach (var term in terms)
            {
                if (!document.Frequencies.TryGetValue(term, out var tf)) continue;
                var df = _documentFrequency[term];
                var idf = Math.Log(1 + (n - df + 0.5) / (df + 0.5));
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * document.Length / _averageLength));
            }
            var isExact = string.Equals(document.Tool.Name, exact, StringComparison.OrdinalIgnoreCase);
            if (score > 0 || isExact) scored.Add((document.Tool, isExact ? double.PositiveInfinity : score));
        }
        return scored.OrderByDescending(s => s.Score).ThenBy(s => s.Tool.Name, StringComparer.Ordinal).Select(s => s.Tool).ToList();
    }

    /// <summary>Lower-case words of two or more letters or digits, plurals folded (<c>items</c> → <c>item</c>).</summary>
    public static IEnumerable<string> Tokens(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                if (start < 0) start = i;
                continue;
            }
            if (start >= 0 && i - start >= 2) yield return Stem(text[start..i].ToLowerInvariant());
            start = -1;
        }
    }

    private static string Stem(string word) =>
        word.Length > 4 && word.EndsWith("ies", StringComparison.Ordinal) ? word[..^3] + "y"
        : word.Length > 3 && word[^1] == 's' && word[^2] != 's' ? word[..^1]
        : word;
}
