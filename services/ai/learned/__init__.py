"""The learned scorer: a logistic regression fitted on one tenant's own outcomes.

`features` turns a scoring input into numbers and a closed lead into training examples;
`model` holds a fitted model as plain numbers and scores with them; `fitting` fits one
with scikit-learn; `scorer` answers analyses with a stored model.
"""
