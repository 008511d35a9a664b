namespace EvoMerge.Merge.Methods;

/// <summary>How a merge method uses the recipe's <c>base_model</c>.</summary>
public enum BaseModelUse
{
    /// <summary>The base is just one more model (linear, karcher, passthrough).</summary>
    Ignored,

    /// <summary>Task vectors are taken against the base when one is given (nuslerp, multislerp).</summary>
    Optional,

    /// <summary>The method is defined relative to the base (task arithmetic family, slerp, model_stock, ...).</summary>
    Required,
}
