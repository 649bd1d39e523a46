import { createContext, useContext, useSyncExternalStore } from "react";
import type { UiModel } from "../model.js";

/** The screen's model, given once at the root. */
export const ModelContext = createContext<UiModel | null>(null);

/** The model, re-rendering the caller at most once per frame when it changes. */
export function useModel(): UiModel {
  const model = useContext(ModelContext);
  if (!model) throw new Error("useModel outside <ModelContext.Provider>");
  useSyncExternalStore(model.subscribe, model.getVersion);
  return model;
}
