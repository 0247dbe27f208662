namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>Requested field paths as a tree (<c>author.name</c>, <c>author.id</c> → author: {name, id}), in request order.</summary>
internal sealed class FieldTree
{
    private readonly Dictionary<string, FieldTree> _children = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public IReadOnlyList<string> Keys => _order;
    public bool IsLeaf => _order.Count == 0;
    public FieldTree this[string key] => _children[key];

    public static FieldTree From(IEnumerable<string> paths, int maxDepth)
    {
        var root = new FieldTree();
        foreach (var path in paths)
        {
            if (path.Count(c => c == '.') > maxDepth)
                throw QueryErrors.Invalid($"\"fields\" entry \"{path}\" goes deeper than {maxDepth} relations.");
            var node = root;
            foreach (var segment in path.Split('.'))
            {
                if (segment.Length == 0) throw QueryErrors.Invalid($"\"fields\" entry \"{path}\" has an empty part.");
                node = node.Child(segment);
            }
        }
        return root;
    }

    private FieldTree Child(string key)
    {
        if (_children.TryGetValue(key, out var child)) return child;
        _order.Add(key);
        return _children[key] = new FieldTree();
    }
}
