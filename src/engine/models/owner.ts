/** Built-in models live where Clarifai keeps its own: user `clarifai`, app `main`. */
export const CLARIFAI_USER_ID = 'clarifai';
export const MAIN_APP_ID = 'main';
